. "$(dirname "$0")/lib.sh"
"$K" init --data "$D" --hub fjell --name X >/dev/null
echo "head=[$(head_seq)] acked=[$(status_field acked_seq)]"
expect probe_should_fail 2 "" --data "$D" room add --name A --capacity 3
bad probe_bad_should_fail room list --data "$D"
expect probe_ok 4 "fjell:r9" --data "$D" room show r9
echo "T=$T"
