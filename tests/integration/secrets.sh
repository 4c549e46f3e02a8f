#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Secret masking in sources/: reads show accessKey and securityToken as
# "******"; writing "******" back keeps the stored secret (the source stays
# valid and the stored bytes still hold it), while "******" in a new source
# (nothing to keep) is an error (in NAME.json.error: the save itself
# succeeds); files are 0600 and chmod cannot widen them; the secrets
# appear nowhere in the mount (grep -r) or the daemon log.
. "$(dirname "$0")/lib.sh"
require_prog python3 sed grep
it_setup
it_mount
S=$MNT/sources
KEY=SuperSecretKeyValue4242
TOKEN=StsTokenValue-9f8e7d6c5b

cat > "$WORK/ots.json" <<JSON
{
  "type": "ots",
  "endpoint": "http://127.0.0.1:1",
  "instanceName": "difs-test",
  "accessId": "LTAIexampleid",
  "accessKey": "$KEY",
  "securityToken": "$TOKEN"
}
JSON
cp "$WORK/ots.json" "$S/ots.json" && ok "valid source written" || notok "valid source written"
assert_valid_def sources ots "source with secrets"
sed "s/$KEY/******/; s/$TOKEN/******/" "$WORK/ots.json" > "$WORK/masked.json"
assert_same "$S/ots.json" "$WORK/masked.json" "read shows the secrets as ******"
check "stat size matches the masked view" test "$(stat -c %s "$S/ots.json")" = "$(stat -c %s "$WORK/masked.json")"
check "source file mode is 0600" test "$(stat -c %a "$S/ots.json")" = 600
chmod 0644 "$S/ots.json" 2>/dev/null
check "chmod 0644 cannot widen a source" test "$(stat -c %a "$S/ots.json")" = 600

# write-back of the masked view with an edit (editor round trip)
sed -i 's/difs-test/difs-test2/' "$S/ots.json" && ok "sed -i of the masked view: exit 0" || notok "sed -i of the masked view"
sed 's/difs-test/difs-test2/' "$WORK/masked.json" > "$WORK/masked2.json"
assert_same "$S/ots.json" "$WORK/masked2.json" "edited source still shows ******"
assert_valid_def sources ots "****** written back keeps the secret (source valid)"
python3 - "$WORK/masked2.json" "$S/ots.json" <<'PY' && ok "python write-back of ****** accepted" || notok "python write-back of ****** accepted"
import sys
with open(sys.argv[2], "w") as h:
    h.write(open(sys.argv[1]).read())
PY

# "******" where there is nothing to keep is an error: the save succeeds
# (validation never fails a system call), the bytes read back, and the
# error is in fresh.json.error and the daemon log
cp "$WORK/masked.json" "$S/fresh.json" 2>"$WORK/cp.err" && ok "****** in a new source: cp exits 0" ||
	notok "****** in a new source: cp exits 0 ($(cat "$WORK/cp.err"))"
assert_same "$S/fresh.json" "$WORK/masked.json" "****** in a new source: bytes read back"
assert_invalid_def sources fresh "****** in a new source"
check "****** in a new source: sources/fresh.json:LINE:COL: error: lines" \
	grep -Eq '^sources/fresh\.json:[0-9]+:[0-9]+: error: ' "$S/fresh.json.error"
check "****** in a new source: a WARN line by cp in the daemon log" \
	grep -Eq 'WARN sources/fresh\.json: saved by cp \(pid [0-9]+\): INVALID' "$WORK/daemon.err"

# issue 14: an invalid source reads back masked too, whatever its state:
# broken JSON (masked by line) and valid JSON that is no valid source
# (masked by member name at any depth: password, token, secret, ...)
cat > "$WORK/broken.json" <<JSON
{
  "type": "ots"
  "endpoint": "http://127.0.0.1:1",
  "accessKey": "$KEY",
  "securityToken":
      "$TOKEN"
JSON
cp "$WORK/broken.json" "$S/broken.json" && ok "broken source: cp exits 0" || notok "broken source: cp exits 0"
assert_invalid_def sources broken "broken JSON source"
check "broken source: read shows the accessKey line masked" grep -q '"accessKey": "\*\*\*\*\*\*",' "$S/broken.json"
check "broken source: other lines as written" grep -q '"endpoint": "http://127.0.0.1:1",' "$S/broken.json"
cat > "$WORK/names.json" <<JSON
{"type": "oss", "dbPassword": "$KEY",
 "extra": {"api_token": "$TOKEN", "list": [{"secret": "$KEY"}]}}
JSON
cp "$WORK/names.json" "$S/names.json" && ok "source with other secret names: cp exits 0" ||
	notok "source with other secret names: cp exits 0"
assert_invalid_def sources names "valid JSON, invalid source"
check "invalid source: dbPassword masked" grep -q '"dbPassword": "\*\*\*\*\*\*"' "$S/names.json"
cp "$S/broken.json" "$WORK/broken.view" && cp "$WORK/broken.view" "$S/broken.json.bak" &&
	ok "a copy of the broken view written back" || notok "a copy of the broken view written back"

# the secrets are nowhere in the mount or in the daemon log
if grep -r -a -l -e "$KEY" -e "$TOKEN" "$MNT" 2>/dev/null; then
	notok "secrets appear nowhere in the mount (grep -r)"
else
	ok "secrets appear nowhere in the mount (grep -r)"
fi
it_unmount
if grep -a -q -e "$KEY" -e "$TOKEN" "$STATE/difs.log" "$WORK/daemon.err"; then
	notok "secrets appear nowhere in the daemon log"
else
	ok "secrets appear nowhere in the daemon log"
fi
# the stored record still has the secret (the store is the user's own
# 0700 state directory): the write-back did not replace it with ******
check "the store still holds the original secret after the write-back" \
	grep -a -q -e "$KEY" "$STATE/data.mdb"
it_mount
assert_same "$S/ots.json" "$WORK/masked2.json" "masked view after remount"
assert_valid_def sources ots "source valid after remount"
it_unmount
it_done
