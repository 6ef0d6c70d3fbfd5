#!/usr/bin/env bash
# migrate.sh SLOT FROM_PORT TO_PORT PAUSE [BATCH]: moves one slot of the specs'
# cluster from one master to another, a key at a time with a pause between
# keys (so calls arrive while the slot is half moved), the way redis-cli
# --cluster reshard does it: IMPORTING on the target, MIGRATING on the
# source, MIGRATE every key, then the slot's new owner told to every master.
set -u
slot=$1 from=$2 to=$3 pause=$4 batch=${5:-1}
from_id=$(redis-cli -p "$from" cluster myid)
to_id=$(redis-cli -p "$to" cluster myid)
redis-cli -p "$to" cluster setslot "$slot" importing "$from_id" >/dev/null
redis-cli -p "$from" cluster setslot "$slot" migrating "$to_id" >/dev/null
empty=0
while [ $empty -lt 3 ]; do
  keys=$(redis-cli -p "$from" cluster getkeysinslot "$slot" "$batch")
  if [ -z "$keys" ]; then
    empty=$((empty + 1))
  else
    empty=0
    # shellcheck disable=SC2086
    redis-cli -p "$from" migrate 127.0.0.1 "$to" "" 0 5000 KEYS $keys >/dev/null
  fi
  sleep "$pause"
done
for p in $(redis-cli -p "$from" cluster nodes | awk '/master/ { split($2, a, "[:@]"); print a[2] }'); do
  redis-cli -p "$p" cluster setslot "$slot" node "$to_id" >/dev/null
done
echo done > "${MIGRATE_DONE:-/dev/null}"
