#!/bin/bash
# Starts an MLflow tracking server on this machine for the tracking tests and prints its URI:
# MLflow (pinned) in a virtual environment under the cache directory, a SQLite store and an
# artifact store beside it, served on localhost with artifact uploads proxied. Used by .ci/run
# (`export LSTM_MNIST_TEST_MLFLOW=$(tools/mlflow-server.sh)`). Idempotent: a server already
# answering on the port is left as it is.
set -euo pipefail

version=3.17.2
port="${LSTM_MNIST_MLFLOW_PORT:-5055}"
uri="http://127.0.0.1:$port"
root="${XDG_CACHE_HOME:-$HOME/.cache}/lstm-mnist/mlflow"
venv="$root/venv-$version"

answers() { curl -fsS --max-time 5 "$uri/health" >/dev/null 2>&1; }

if answers; then
  echo "$uri"
  exit 0
fi
if ! [ -x "$venv/bin/mlflow" ]; then
  if ! python3 -c 'import ensurepip' 2>/dev/null; then
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends python3-venv >&2
  fi
  rm -rf "$venv"
  python3 -m venv "$venv" >&2
  "$venv/bin/pip" install --quiet "mlflow==$version" >&2
fi
mkdir -p "$root/server"
# setsid: the server outlives this script and the CI step's shell; its log is kept beside it.
setsid "$venv/bin/mlflow" server --host 127.0.0.1 --port "$port" --workers 1 \
  --backend-store-uri "sqlite:///$root/server/mlflow.db" \
  --artifacts-destination "$root/server/artifacts" \
  >"$root/server/log" 2>&1 < /dev/null &
pid=$!
# Waits for the server's own answer (the first start migrates the database), or its exit.
for _ in $(seq 1 240); do
  if answers; then
    echo "$uri"
    exit 0
  fi
  if ! kill -0 "$pid" 2>/dev/null; then
    echo "tools/mlflow-server.sh: mlflow server exited; its log:" >&2
    tail -20 "$root/server/log" >&2
    exit 1
  fi
  sleep 1
done
echo "tools/mlflow-server.sh: no answer from $uri after 4 minutes; its log: $root/server/log" >&2
exit 1
