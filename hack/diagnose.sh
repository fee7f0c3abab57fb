#!/usr/bin/env bash
# What `make test` prints when integration tests fail, last, so that it is what a CI log's tail
# shows: the errors every libvirtd logged since SINCE ("YYYY-MM-DD HH:MM:SS", UTC), most
# frequent first, and the cluster's recent Warning Events. Best effort: never fails.
#   hack/diagnose.sh SINCE
since=${1:?usage: $0 "YYYY-MM-DD HH:MM:SS"}
logs=(/var/log/libvirt/libvirtd.log "${GRIDDESK_LIBVIRT_DIR:-/var/lib/griddesk-libvirt}"/*/log/libvirtd.log)
for log in "${logs[@]}"; do
  [ -r "$log" ] || continue
  # Less the start-up complaints every libvirtd here makes (no D-Bus, DMI, dnsmasq): harmless.
  errors=$(awk -v since="$since" '($1 " " $2) >= since && / error : /' "$log" |
    grep -v -E 'virGDBusGetSystemBus|udevGetDMIData|dmidecode|dnsmasqCaps' |
    sed -E 's/^[^ ]+ [^ ]+ [0-9]+: error : //' | sort | uniq -c | sort -rn | head -8)
  [ -n "$errors" ] && printf -- '--- errors in %s since %s (count, message):\n%s\n' "$log" "$since" "$errors"
done
if [ -n "${KUBECTL:-}" ] && [ -n "${KUBECONFIG:-}" ]; then
  echo "--- latest Warning Events (namespaces the tests deleted are gone):"
  "$KUBECTL" get events -A --field-selector type=Warning --sort-by=.lastTimestamp \
    -o custom-columns=NS:.metadata.namespace,OBJECT:.involvedObject.name,REASON:.reason,COUNT:.count,MESSAGE:.message \
    2>&1 | tail -15 | cut -c1-240
fi
exit 0
