#!/bin/bash
# tests/vm/smoke.sh: prove the VM harness gives a working device-mapper.
#
# Run from the host:  tests/vm/run -- tests/vm/smoke.sh
#
# On loop devices backed by files in /tmp: a dm-linear device with ext4 on it
# is turned, while mounted, into a snapshot-origin with a dm snapshot beside
# it (the layout the dm provider uses: the visible device becomes
# snapshot-origin over a "-real" copy of its old table). A write after the
# snapshot must show on the origin and not on the snapshot. Everything is
# torn down at the end; exit 0 only if every step worked. Exit 77 (skip) where
# the kernel has no device-mapper, i.e. when run on the host by mistake.
set -uo pipefail

N=vss-smoke-$$          # dm names, unique per run
passed=0 failed=0
dir=
loop_origin='' loop_cow=

ok()   { passed=$((passed + 1)); echo "ok - $*"; }
fail() { failed=$((failed + 1)); echo "not ok - $*"; }
die()  { fail "$*"; finish; }

cleanup() {
    [ -n "$dir" ] || return 0
    umount "$dir/snap" 2>/dev/null
    umount "$dir/origin" 2>/dev/null
    for d in "$N-snap" "$N" "$N-real"; do
        dmsetup info "$d" >/dev/null 2>&1 && dmsetup remove "$d"
    done
    [ -n "$loop_cow" ] && losetup -d "$loop_cow"
    [ -n "$loop_origin" ] && losetup -d "$loop_origin"
    rm -rf "$dir"
    dir=
}

finish() {
    cleanup
    # Nothing of ours may be left behind.
    if dmsetup ls 2>/dev/null | grep -q "^$N"; then
        fail "cleanup: dm devices left: $(dmsetup ls | grep "^$N" | tr '\n' ' ')"
    elif losetup -a | grep -q "/vss-smoke\.[^/]*/"; then
        fail "cleanup: loop devices left: $(losetup -a | grep "/vss-smoke\." | tr '\n' ' ')"
    else
        ok "cleanup: dm devices and loop devices removed"
    fi
    echo "smoke: $passed passed, $failed failed"
    [ "$failed" = 0 ] && [ "$passed" -gt 0 ] && exit 0
    exit 1
}
trap 'die "interrupted"' INT TERM

# Write a file and push it to the device.
# shellcheck disable=SC2317  # called through step
put() { printf '%s\n' "$2" >"$1" && sync; }

# Record a check that does not stop the test.
check() {
    local what=$1; shift
    if "$@" 2>/dev/null; then ok "$what"; else fail "$what"; fi
}

# Run a command, record the step, stop the test if it fails.
step() {
    local what=$1; shift
    local out
    if out=$("$@" 2>&1); then
        ok "$what"
    else
        [ -n "$out" ] && printf '%s\n' "$out" | sed 's/^/#   /'
        die "$what ($*)"
    fi
}

if [ "$(id -u)" != 0 ]; then echo "smoke: must run as root"; exit 77; fi
if ! modprobe dm-mod 2>/dev/null && [ ! -e /dev/mapper/control ]; then
    echo "smoke: this kernel has no device-mapper; run it as: tests/vm/run -- $0"
    exit 77
fi
for t in dmsetup losetup mkfs.ext4 blockdev; do
    command -v "$t" >/dev/null || { echo "smoke: $t is not installed"; exit 77; }
done
echo "# kernel $(uname -r), DM_DISABLE_UDEV=${DM_DISABLE_UDEV:-unset}, $(dmsetup version 2>/dev/null | tr '\n' ' ')"

dir=$(mktemp -d /tmp/vss-smoke.XXXXXX)
mkdir "$dir/origin" "$dir/snap"

truncate -s 64M "$dir/origin.img"
truncate -s 32M "$dir/cow.img"
loop_origin=$(losetup -f --show "$dir/origin.img") || die "losetup the origin image"
loop_cow=$(losetup -f --show "$dir/cow.img") || die "losetup the COW image"
ok "loop devices $loop_origin (origin) and $loop_cow (COW)"

size=$(blockdev --getsz "$loop_origin")          # 512-byte sectors
step "dm-linear $N over $loop_origin" \
    dmsetup create "$N" --table "0 $size linear $loop_origin 0"
[ -b "/dev/mapper/$N" ] || die "/dev/mapper/$N was not created (udev fallback?)"
ok "/dev/mapper/$N exists"

step "mkfs.ext4 on /dev/mapper/$N" mkfs.ext4 -q -F "/dev/mapper/$N"
step "mount /dev/mapper/$N" mount "/dev/mapper/$N" "$dir/origin"
step "write a file before the snapshot" put "$dir/origin/file" "before snapshot"

# Take the snapshot the way the provider does: suspend the visible device (dm
# freezes the file system through lockfs), give its old table a new name,
# put a snapshot on that, and make the visible device a snapshot-origin.
step "create $N-real with the origin's table" \
    dmsetup create "$N-real" --table "0 $size linear $loop_origin 0"
step "suspend $N (freezes ext4)" dmsetup suspend "$N"
step "create snapshot $N-snap (COW on $loop_cow)" \
    dmsetup create "$N-snap" --table "0 $size snapshot /dev/mapper/$N-real $loop_cow P 8"
step "load snapshot-origin into $N" \
    dmsetup load "$N" --table "0 $size snapshot-origin /dev/mapper/$N-real"
step "resume $N" dmsetup resume "$N"
table=$(dmsetup table "$N")
case "$table" in *snapshot-origin*) ok "$N is now a snapshot-origin";;
    *) die "$N table after resume: $table";; esac

step "overwrite the file on the origin after the snapshot" \
    put "$dir/origin/file" "after snapshot"
step "make a new file on the origin" put "$dir/origin/new" "new"

step "mount the snapshot read-only" mount -o ro "/dev/mapper/$N-snap" "$dir/snap"
got_origin=$(cat "$dir/origin/file")
got_snap=$(cat "$dir/snap/file")
check "origin has the new content (reads '$got_origin')" \
    test "$got_origin" = "after snapshot"
check "snapshot keeps the old content (reads '$got_snap')" \
    test "$got_snap" = "before snapshot"
check "a file made after the snapshot is not in it" test ! -e "$dir/snap/new"

# The COW must have recorded chunks: "<used>/<total> <metadata>".
status=$(dmsetup status "$N-snap")
used=$(echo "$status" | awk '{split($4, a, "/"); print a[1]}')
check "the COW holds chunks (status: $status)" test "${used:-0}" -gt 0

finish
