#!/usr/bin/env bash
# Builds a bootable Debian 12 appliance image with the Feedline .deb installed, for QEMU:
#   scripts/vm-image.sh FEEDLINE.deb OUT_DIR [CONFIG.toml]
# writes OUT_DIR/{vmlinuz,initrd.img,root.ext4}. Boot it with -kernel/-initrd against root.ext4
# on virtio (tests/tests/vm_image.rs does). Needs root, mmdebstrap and e2fsprogs (scripts/vm-setup.sh).
#
# Why this shape: the ext4 is made by `mke2fs -d` from the tree mmdebstrap builds, so there are no
# loop mounts and no bootloader; the initramfs lists only the virtio and ext4 modules
# (MODULES=list), which keeps it small and quick to build. The image carries the QEMU guest agent
# so a test can run commands in it (modprobe, kill) without a login or sshd.
set -euo pipefail
deb="$(realpath "$1")"
out="$(realpath -m "$2")"
config="${3:-}"
mirror="${FEEDLINE_VM_MIRROR:-http://deb.debian.org/debian}"
mkdir -p "$out"
tree="$out/tree"
rm -rf "$tree"

packages=(
  systemd-sysv udev kmod iproute2 linux-image-amd64 initramfs-tools
  qemu-guest-agent v4l-utils procps
)

# The initramfs only needs to find an ext4 root on virtio.
setup_hook='mkdir -p "$1/etc/initramfs-tools/conf.d" "$1/usr/share/initramfs-tools/modules.d"
echo MODULES=list > "$1/etc/initramfs-tools/conf.d/feedline-vm.conf"
echo COMPRESS=gzip >> "$1/etc/initramfs-tools/conf.d/feedline-vm.conf"
printf "virtio_pci\nvirtio_blk\next4\n" > "$1/usr/share/initramfs-tools/modules.d/feedline-vm"'

# The guest's network: DHCP on QEMU's user-mode network.
network_hook='mkdir -p "$1/etc/systemd/network"
printf "[Match]\nName=en*\n[Network]\nDHCP=yes\n" > "$1/etc/systemd/network/20-wired.network"
chroot "$1" systemctl enable systemd-networkd
echo feedline-vm > "$1/etc/hostname"
printf "/dev/vda / ext4 defaults 0 1\n" > "$1/etc/fstab"'

config_hook=':'
if [ -n "$config" ]; then
  config_hook="install -m 0644 '$(realpath "$config")' \"\$1/etc/feedline/feedline.toml\""
fi

mmdebstrap --variant=apt --mode=root --format=directory \
  --include="$(IFS=,; echo "${packages[*]}")" \
  --setup-hook="$setup_hook" \
  --customize-hook="copy-in $deb /tmp" \
  --customize-hook="chroot \"\$1\" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends /tmp/$(basename "$deb")" \
  --customize-hook="rm -f \"\$1/tmp/$(basename "$deb")\"" \
  --customize-hook="$network_hook" \
  --customize-hook="$config_hook" \
  --customize-hook='chroot "$1" apt-get clean' \
  bookworm "$tree" "$mirror"

cp "$tree"/boot/vmlinuz-* "$out/vmlinuz"
cp "$tree"/boot/initrd.img-* "$out/initrd.img"
size_mb=$(( $(du -sm "$tree" | cut -f1) + 512 ))
rm -f "$out/root.ext4"
mke2fs -q -t ext4 -d "$tree" -L feedline-root "$out/root.ext4" "${size_mb}M"
rm -rf "$tree"
echo "vm-image: $out/root.ext4 (${size_mb} MiB), kernel $(basename "$(ls "$out/vmlinuz")")"
