#!/usr/bin/env bash
# Builds the tiny bootable desktop the libvirt tests and `make run` use, from Debian packages,
# into a cache outside the repo (default ~/.cache/griddesk/test-image; $GRIDDESK_TEST_IMAGE_DIR):
#   vmlinuz          Debian's cloud kernel (apt-get download linux-image-*-cloud-amd64, dpkg -x)
#   initrd.gz        busybox-static initramfs; /init loads virtio_blk, prints a banner on tty0,
#                    shows notices that arrive on ttyS0 (acknowledging each there), and keeps a
#                    logon counter and a one-line file on a hot-plugged profile disk (below)
#   golden.qcow2     a small system disk whose first bytes read "griddesk-golden-image"
#   *.sha256         the sha256 of each of the three, as a pool names them
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
# The profile disk: hot-plugged at logon with the serial griddesk-profile, found by that serial
# (the device name may differ). It is used raw, to keep the image tiny: sector 0 holds
# "griddesk-profile logons=N", sector 8 the user's file (one line). Every write goes through
# dd conv=fsync: busybox sync sends no flush to a raw block device.
profile_dev() {
  for s in /sys/block/vd*/serial; do
    [ "$(cat "$s" 2>/dev/null)" = griddesk-profile ] || continue
    d=${s%/serial}
    echo "/dev/${d##*/}"
    return
  done
}
sector() { dd if="$1" bs=512 skip="$2" count=1 2>/dev/null | tr -d '\000' | head -n 1; }
put_sector() { printf '%s\n' "$3" | dd of="$1" bs=512 seek="$2" count=1 conv=sync,fsync 2>/dev/null; }
# Each time a profile disk appears, count a logon on it.
(
  seen=
  while :; do
    dev=$(profile_dev)
    if [ -n "$dev" ] && [ "$dev" != "$seen" ]; then
      n=$(sector "$dev" 0 | sed -n 's/^griddesk-profile logons=\([0-9]*\)$/\1/p')
      n=$((${n:-0} + 1))
      put_sector "$dev" 0 "griddesk-profile logons=$n" && echo "profile disk $dev: logon $n"
    fi
    seen=$dev
    usleep 200000
  done
) &
# The host writes lines on the first serial port: "griddesk-notice TEXT" (a notice: shown on
# screen and acknowledged), and, for tests acting as the user, "griddesk-profile-write TEXT"
# (the user saves a file on the profile disk), "griddesk-profile-fill MB" (the user writes MB MiB
# after the first one) and "griddesk-profile-read" (what the disk holds).
stty -F /dev/ttyS0 raw -echo 2>/dev/null
while read -r tag text; do
  case "$tag" in
  griddesk-notice)
    echo
    echo "*** $text"
    echo griddesk-notice-shown >/dev/ttyS0
    ;;
  griddesk-profile-write)
    dev=$(profile_dev)
    if [ -n "$dev" ] && put_sector "$dev" 8 "$text"; then echo griddesk-profile-written >/dev/ttyS0
    else echo griddesk-profile-none >/dev/ttyS0; fi
    ;;
  griddesk-profile-fill)
    dev=$(profile_dev)
    if [ -n "$dev" ] && dd if=/dev/zero of="$dev" bs=1M seek=1 count="$text" conv=fsync 2>/dev/null; then
      echo griddesk-profile-filled >/dev/ttyS0
    else echo griddesk-profile-none >/dev/ttyS0; fi
    ;;
  griddesk-profile-read)
    dev=$(profile_dev)
    if [ -n "$dev" ]; then echo "griddesk-profile-state $(sector "$dev" 0) file=$(sector "$dev" 8)" >/dev/ttyS0
    else echo griddesk-profile-none >/dev/ttyS0; fi
    ;;
  esac
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
for f in golden.qcow2 vmlinuz initrd.gz; do sha256sum "$out/$f" | cut -d' ' -f1 >"$out/$f.sha256"; done
echo "$stamp" >"$out/.stamp"
echo "$out"
