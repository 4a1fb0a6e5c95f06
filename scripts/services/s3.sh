# An S3-compatible server: moto's server (PyPI `moto[server]` 5.2.6, pinned with its dependencies in
# s3-requirements.txt) in a venv under $CACHE, data in memory. It honours conditional writes
# (If-None-Match / If-Match), ListObjectsV2 continuation and multipart uploads with S3-style ETags.
#
# Authentication is ON, so wrong credentials really fail (403 InvalidAccessKeyId /
# SignatureDoesNotMatch): at start an IAM user with an allow-all policy and an access key are created
# while moto still runs without auth, then auth is switched on. The key is random (moto chooses it);
# it is kept in $DIR/s3/credentials and exported as FAUCET_TEST_S3_ACCESS_KEY_ID /
# FAUCET_TEST_S3_SECRET_ACCESS_KEY. Prefixed names, not AWS_*: `eval "$(services.sh env)"` must not
# point a developer's shell (and its aws CLI) at dummy credentials.
# Settings: FAUCET_S3_PORT (19000).
s3_DESCRIPTION='S3 (moto 5.2.6 server, in memory, auth on) on 127.0.0.1:${FAUCET_S3_PORT:-19000}'
S3_PORT=${FAUCET_S3_PORT:-19000}
S3_DIR=$DIR/s3
S3_PID=$S3_DIR/moto.pid
S3_LOG=$S3_DIR/moto.log
S3_CREDENTIALS=$S3_DIR/credentials
S3_VENV=$CACHE/moto-venv
S3_REQUIREMENTS=$(dirname "${BASH_SOURCE[0]}")/s3-requirements.txt

# moto's dashboard page answers 200 with auth on and whatever the data (data.json can fail with 500).
s3_ready() { curl -sf --max-time 10 -o /dev/null "http://127.0.0.1:$S3_PORT/moto-api/"; }

# The venv is reused while it was built from the same requirements (their hash is stamped in it).
s3_install() {
  local want
  want=$(sha1sum "$S3_REQUIREMENTS" | cut -c1-40)
  if [ -x "$S3_VENV/bin/moto_server" ] && [ "$(cat "$S3_VENV/.faucet-stamp" 2>/dev/null)" = "$want" ]; then
    return 0
  fi
  command -v python3 >/dev/null 2>&1 || apt_install python3
  python3 -c 'import ensurepip, venv' >/dev/null 2>&1 || apt_install python3-venv
  command -v curl >/dev/null 2>&1 || apt_install curl
  log "installing moto[server] into $S3_VENV (pip, once; about a minute)"
  rm -rf "$S3_VENV"
  python3 -m venv "$S3_VENV" || die "python3 -m venv $S3_VENV failed"
  if ! "$S3_VENV/bin/pip" install -q --no-input -r "$S3_REQUIREMENTS" >"$CACHE/moto-install.log" 2>&1; then
    show_log 'pip install' "$CACHE/moto-install.log"
    rm -rf "$S3_VENV"
    die "pip install of moto[server] failed"
  fi
  echo "$want" >"$S3_VENV/.faucet-stamp"
}

# Create the IAM user and key (moto still without auth), then switch auth on.
s3_setup_auth() {
  "$S3_VENV/bin/python" - "$S3_PORT" "$S3_CREDENTIALS" <<'PY' || return 1
import json, sys, boto3
port, out = sys.argv[1], sys.argv[2]
iam = boto3.client('iam', endpoint_url=f'http://127.0.0.1:{port}', region_name='us-east-1',
                   aws_access_key_id='bootstrap', aws_secret_access_key='bootstrap')
iam.create_user(UserName='faucet-test')
iam.put_user_policy(UserName='faucet-test', PolicyName='all', PolicyDocument=json.dumps(
    {'Version': '2012-10-17', 'Statement': [{'Effect': 'Allow', 'Action': '*', 'Resource': '*'}]}))
key = iam.create_access_key(UserName='faucet-test')['AccessKey']
with open(out + '.tmp', 'w') as f:
    f.write(f"{key['AccessKeyId']} {key['SecretAccessKey']}\n")
PY
  mv "$S3_CREDENTIALS.tmp" "$S3_CREDENTIALS"
  curl -sf -X POST -H 'Content-Type: text/plain' --data 0 "http://127.0.0.1:$S3_PORT/moto-api/reset-auth" >/dev/null
}

s3_start() {
  local t0
  t0=$(date +%s%N)
  if s3_status 2>/dev/null; then
    log "s3 (moto) already running on 127.0.0.1:$S3_PORT"
  else
    stop_pid s3 "$S3_PID"
    if port_open "$S3_PORT"; then
      die "port $S3_PORT is taken by another program; stop it or choose another port with FAUCET_S3_PORT"
    fi
    mkdir -p "$S3_DIR"
    rm -f "$S3_PID" "$S3_CREDENTIALS"
    spawn_detached "$S3_PID" "$S3_VENV/bin/moto_server" -H 127.0.0.1 -p "$S3_PORT" \
      >"$S3_LOG" 2>&1 </dev/null || die 'moto: the server process did not start'
    if ! wait_for "$TIMEOUT" s3_ready; then
      show_log moto "$S3_LOG"
      die "moto does not answer on 127.0.0.1:$S3_PORT within ${TIMEOUT}s"
    fi
    if ! s3_setup_auth; then
      show_log moto "$S3_LOG"
      stop_pid s3 "$S3_PID"
      die 'could not create the test credentials in moto'
    fi
  fi
  log "s3 (moto $("$S3_VENV/bin/python" -c 'import moto; print(moto.__version__)')) on" \
    "127.0.0.1:$S3_PORT (in memory, auth on; started in $(elapsed_since "$t0") s)"
}

s3_stop() {
  stop_pid s3 "$S3_PID"
  rm -f "$S3_CREDENTIALS"
}

s3_status() {
  if pid_alive "$S3_PID" && s3_ready && [ -s "$S3_CREDENTIALS" ]; then
    log "s3: running on 127.0.0.1:$S3_PORT (pid $(cat "$S3_PID"))"
  else
    log "s3: not running"
    return 3
  fi
}

s3_env() {
  local id secret
  read -r id secret <"$S3_CREDENTIALS"
  echo "export FAUCET_TEST_S3_ENDPOINT=http://127.0.0.1:$S3_PORT"
  echo "export FAUCET_TEST_S3_REGION=us-east-1"
  printf "export FAUCET_TEST_S3_ACCESS_KEY_ID=%q\n" "$id"
  printf "export FAUCET_TEST_S3_SECRET_ACCESS_KEY=%q\n" "$secret"
}
