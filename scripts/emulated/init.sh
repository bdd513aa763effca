#!/bin/busybox sh
# /init of the emulated guests (scripts/emulated/run.sh): mounts what the tests read, runs the
# guest's test plan (scripts/emulated/guest.cjs) and powers off. Words of the kernel command line
# such as GUEST=arm64 arrive here as environment variables.
/bin/busybox --install -s /bin
export PATH=/bin:/usr/bin HOME=/root LD_LIBRARY_PATH=/lib
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
mount -t tmpfs -o mode=1777 tmp /tmp
mount -t tracefs tracefs /sys/kernel/tracing 2>/dev/null
mount -t debugfs debugfs /sys/kernel/debug 2>/dev/null
echo "emulated-guest: Linux $(uname -r) $(uname -m), $(grep -c ^processor /proc/cpuinfo) CPU"
cd /pkg || poweroff -f
/usr/bin/node /t/guest.cjs "$GUEST"
echo "emulated-exit: $?"
poweroff -f
