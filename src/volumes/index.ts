// Node-local volumes: the golden-image cache and per-desktop overlays on a host's own disk.
export { BootFiles, type BootFileRef } from "./boot-files.js";
export { CommandError, runCommand, type CommandOptions } from "./command.js";
export { chooseEvictions, type EvictionCandidate } from "./eviction.js";
export { fetchTo, type Fetched } from "./fetch.js";
export {
  checkContainerDiskPrefixes,
  checkPolicy,
  CONTAINER_DISK_FLAG,
  containerDiskVerdict,
  checkSources,
  checkSourcesLexically,
  DEFAULT_FETCH_LIMITS,
  DENY_ALL,
  POLICY_FLAGS,
  locate,
  resolveSource,
  type FetchLimits,
  type SourceLocation,
  type SourcePolicy,
} from "./source-policy.js";
export { ImageCache, type ImageCacheOptions, type ImageListener } from "./image-cache.js";
export { ImageStore, type CachedImage, type ImageMeta } from "./image-store.js";
export { Overlays, type Backing } from "./overlays.js";
export {
  allocatedBytes,
  checkImage,
  createEmptyDisk,
  createOverlay,
  diskInfo,
  flattenImage,
  type DiskInfo,
  type QcowOptions,
} from "./qemu-img.js";
export { backingFileName, Qcow2HeaderError, QCOW2_HEADER_BYTES } from "./qcow2-header.js";
export { ImageRefusedError, inspectImage, judgeImage, type ImageExpectation } from "./image-inspector.js";
