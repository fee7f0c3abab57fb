#!/usr/bin/env bash
# Builds the tiny bootable desktop the libvirt tests and `make run` use, from Debian packages,
# into a cache outside the repo (default ~/.cache/griddesk/test-image; $GRIDDESK_TEST_IMAGE_DIR):
#   vmlinuz          Debian's cloud kernel (apt-get download linux-image-*-cloud-amd64, dpkg -x)
#   initrd.gz        busybox-static initramfs; /init loads virtio_blk, prints a banner on tty0
#                    and shows notices that arrive on ttyS0 (acknowledging each there)
#   golden.qcow2     a small system disk whose first bytes read "griddesk-golden-image"
#   golden.qcow2.sha256
# Idempotent: parts already built by this version of the script are kept. Prints the directory.
set -euo pipefail
out=${GRIDDESK_TEST_IMAGE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/griddesk/test-image}
stamp=$(sha256sum "$0" | cut -c1-16)
log() { echo "build-test-image: $*" >&2; }
mkdir -p "$out"
if [ -s "$out/golden.qcow2.sha256" ] && [ "$(cat "$out/.stamp" 2>/dev/null)" = "$stamp" ]; then
  echo "$out"
  exit 0
fi

need=()
for p in busybox-static cpio qemu-utils; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || need+=("$p")
done
if [ ${#need[@]} -gt 0 ]; then
  [ "$(id -u)" = 0 ] || { log "missing ${need[*]} and not root to install them"; exit 1; }
  log "installing ${need[*]}"
  apt-get update -qq >&2
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >&2
fi

work=$(mktemp -d) && chmod 755 "$work"
trap 'rm -rf "$work"' EXIT

kernel_package() { apt-cache depends linux-image-cloud-amd64 2>/dev/null | awk '/Depends: linux-image-/ {print $2; exit}'; }
if [ ! -s "$out/vmlinuz" ] || [ ! -d "$out/modules" ]; then
  pkg=$(kernel_package)
  [ -n "$pkg" ] || { apt-get update -qq >&2; pkg=$(kernel_package); }
  [ -n "$pkg" ] || { log "no linux-image-*-cloud-amd64 package found"; exit 1; }
  log "downloading $pkg"
  (cd "$work" && apt-get download -q "$pkg" >&2)
  dpkg -x "$work"/linux-image-*.deb "$work/kernel"
  ver=$(ls "$work/kernel/lib/modules")
  rm -rf "$out/modules.new" && mkdir -p "$out/modules.new"
  for m in virtio/virtio_ring virtio/virtio virtio/virtio_pci_legacy_dev virtio/virtio_pci_modern_dev \
    virtio/virtio_pci block/virtio_blk; do
    cp "$work/kernel/lib/modules/$ver/kernel/drivers/$m.ko" "$out/modules.new/"
  done
  cp "$work/kernel/boot/vmlinuz-$ver" "$out/vmlinuz.new"
  rm -rf "$out/modules" && mv "$out/modules.new" "$out/modules" && mv "$out/vmlinuz.new" "$out/vmlinuz"
fi

log "building initrd.gz"
root=$work/initramfs
mkdir -p "$root/bin" "$root/modules" "$root/proc" "$root/sys" "$root/dev"
cp /bin/busybox "$root/bin/busybox"
cp "$out"/modules/*.ko "$root/modules/"
cat >"$root/init" <<'INIT'
#!/bin/busybox sh
/bin/busybox --install -s /bin
export PATH=/bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
for m in virtio_ring virtio virtio_pci_legacy_dev virtio_pci_modern_dev virtio_pci virtio_blk; do
  insmod /modules/$m.ko 2>/dev/null
done
sleep 1
clear
echo "################################################"
echo "#                                              #"
echo "#          griddesk test desktop               #"
echo "#                                              #"
echo "################################################"
echo "kernel $(uname -r)"
[ -b /dev/vda ] && echo "system disk /dev/vda: $(head -c 21 /dev/vda)"
# Notices from the host (the libvirt adapter's notify hook) arrive on the first serial port as
# "griddesk-notice TEXT" lines: show them on screen and acknowledge on the same port.
stty -F /dev/ttyS0 raw -echo 2>/dev/null
while read -r tag text; do
  [ "$tag" = griddesk-notice ] || continue
  echo
  echo "*** $text"
  echo griddesk-notice-shown >/dev/ttyS0
done </dev/ttyS0 &
while :; do sleep 3600; done
INIT
chmod +x "$root/init"
(cd "$root" && find . | cpio -o -H newc --quiet | gzip -9) >"$out/initrd.gz.new"
mv "$out/initrd.gz.new" "$out/initrd.gz"

log "building golden.qcow2"
truncate -s 64M "$work/golden.raw"
printf 'griddesk-golden-image' | dd of="$work/golden.raw" conv=notrunc status=none
qemu-img convert -f raw -O qcow2 "$work/golden.raw" "$out/golden.qcow2.new"
mv "$out/golden.qcow2.new" "$out/golden.qcow2"
sha256sum "$out/golden.qcow2" | cut -d' ' -f1 >"$out/golden.qcow2.sha256"
echo "$stamp" >"$out/.stamp"
echo "$out"
