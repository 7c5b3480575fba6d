#!/bin/sh
# Runs inside the test VM on the host's root file system (read-only, 9p): gives it writable layers, loads the kernel
# modules the labs use from the extracted kernel package, runs the command the host left in the output directory, and
# powers off. Output and exit status go back to the host through that directory (a second 9p share).
out=$1
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
# The share shows the host's own /proc, /sys and /dev as directories: cover them with this kernel's.
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
mkdir -p /dev/pts /dev/shm
mount -t devpts devpts /dev/pts
mount -t tmpfs tmpfs /dev/shm
# What udev would add: /dev/stdin and friends (`wg set … private-key /dev/stdin` reads the key from them).
ln -s /proc/self/fd /dev/fd
ln -s /proc/self/fd/0 /dev/stdin
ln -s /proc/self/fd/1 /dev/stdout
ln -s /proc/self/fd/2 /dev/stderr
mount -t tmpfs tmpfs /run
mkdir -p /run/lock
# Writable layers over the host's directories (a clone under /tmp stays visible; what the VM writes stays in it).
for directory in /etc /tmp /var/tmp /var/lib /var/log; do
    layer=/run/layers$directory
    mkdir -p "$layer/upper" "$layer/work"
    mount -t overlay -o "lowerdir=$directory,upperdir=$layer/upper,workdir=$layer/work" overlay "$directory" \
        || echo "stage2: cannot make $directory writable"
done
chmod 1777 /tmp
mkdir -p "$out"
mount -t 9p -o trans=virtio,version=9p2000.L,rw out "$out"
ip link set lo up
hostname riftgate-vm
export HOME=/tmp/vm-home
mkdir -p "$HOME"
. "$out/environment"
# The kernel's module requests (veth, nf_tables, wireguard) go to modprobe with the extracted package as its root.
printf '#!/bin/sh\nexec /usr/sbin/modprobe -d %s "$@"\n' "$MODULES_ROOT" > /run/modprobe
chmod 755 /run/modprobe
echo /run/modprobe > /proc/sys/kernel/modprobe
for module in wireguard veth bridge tun nf_tables nft_chain_nat nft_nat nft_masq nft_ct nf_conntrack; do
    /run/modprobe "$module" || echo "stage2: modprobe $module failed"
done
cd "$WORKDIR" || true
/bin/sh "$out/command.sh" > "$out/output" 2>&1
echo $? > "$out/status"
sync
echo o > /proc/sysrq-trigger
