#!/usr/bin/env bash
# Executes the notebooks from top to bottom with Deno's Jupyter kernel and stores the results.
#
#   scripts/notebooks.sh                    refresh the outputs stored in notebooks/*.ipynb
#   scripts/notebooks.sh --output-dir DIR   write the executed notebooks to DIR instead
#   scripts/notebooks.sh part2-neural-network   only the notebooks named (without .ipynb)
#
# Fails (exit status 1) on the first cell that throws; the files are replaced only when every
# notebook ran through, so a failed run never leaves a half-executed notebook behind.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
all_notebooks=(part1-engine part2-neural-network part3-next-token)
notebooks=()
output_dir="$root/notebooks"

while [ $# -gt 0 ]; do
  case "$1" in
    --output-dir)
      [ $# -ge 2 ] || { echo "notebooks.sh: --output-dir needs a directory" >&2; exit 2; }
      output_dir="$2"
      shift 2
      ;;
    *)
      if [[ "$1" == -* || " ${all_notebooks[*]} " != *" ${1%.ipynb} "* ]]; then
        echo "notebooks.sh: unknown argument '$1' (usage: notebooks.sh [--output-dir DIR] [NOTEBOOK...]; the notebooks are ${all_notebooks[*]})" >&2
        exit 2
      fi
      notebooks+=("${1%.ipynb}")
      shift
      ;;
  esac
done
[ ${#notebooks[@]} -gt 0 ] || notebooks=("${all_notebooks[@]}")
mkdir -p "$output_dir"
output_dir="$(cd "$output_dir" && pwd)"

bash "$root/scripts/ensure-jupyter.sh"

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

# Deno's kernel may publish a cell's last printed lines or result a moment *after* it reports
# the cell idle, and nbconvert stops listening at idle, so those outputs would be lost at random
# on a busy machine. This preprocessor keeps listening until the kernel has been quiet briefly.
cat >"$work/config.py" <<'PY'
from queue import Empty


from nbclient.util import ensure_async
from nbclient.exceptions import CellExecutionComplete
from nbconvert.preprocessors import ExecutePreprocessor


class DenoExecutePreprocessor(ExecutePreprocessor):
    quiet_seconds = 0.25

    async def _async_poll_output_msg(self, parent_msg_id, cell, cell_index):
        await super()._async_poll_output_msg(parent_msg_id, cell, cell_index)
        while True:
            try:
                msg = await ensure_async(self.kc.iopub_channel.get_msg(timeout=self.quiet_seconds))
            except Empty:
                return
            if msg["parent_header"].get("msg_id") == parent_msg_id:
                try:
                    self.process_message(msg, cell, cell_index)
                except CellExecutionComplete:
                    pass


c = get_config()  # noqa: F821 (provided by the config loader)
c.Exporter.preprocessors = [DenoExecutePreprocessor]
c.DenoExecutePreprocessor.enabled = True
c.DenoExecutePreprocessor.kernel_name = "deno"
c.DenoExecutePreprocessor.timeout = 300
# Timestamps in every cell would make each re-run a diff of its own.
c.DenoExecutePreprocessor.record_timing = False
PY

# Without this, Deno colours printed values with ANSI escapes, which GitHub shows as garbage.
export NO_COLOR=1

# The registered kernel, started with --quiet: otherwise Deno warns on every start that
# "deno jupyter" is unstable. Jupyter looks in JUPYTER_PATH before the user's kernels.
mkdir -p "$work/jupyter/kernels/deno"
cat >"$work/jupyter/kernels/deno/kernel.json" <<JSON
{
  "argv": ["$root/node_modules/.bin/deno", "jupyter", "--quiet", "--kernel", "--conn", "{connection_file}"],
  "display_name": "Deno",
  "language": "typescript"
}
JSON
export JUPYTER_PATH="$work/jupyter${JUPYTER_PATH:+:$JUPYTER_PATH}"

for name in "${notebooks[@]}"; do
  echo "notebooks.sh: executing notebooks/$name.ipynb" >&2
  started=$SECONDS
  # The kernel starts in the notebook's own folder, so its relative imports (../src/...) resolve
  # the same way wherever the output goes.
  if ! jupyter-nbconvert --config "$work/config.py" --to notebook --log-level=WARN \
    --output-dir "$work" --output "$name" "$root/notebooks/$name.ipynb"; then
    echo "notebooks.sh: notebooks/$name.ipynb failed (see the cell error above); nothing was written" >&2
    exit 1
  fi
  echo "notebooks.sh: notebooks/$name.ipynb ran in $((SECONDS - started)) s" >&2
done

for name in "${notebooks[@]}"; do
  mv "$work/$name.ipynb" "$output_dir/$name.ipynb"
  bytes=$(wc -c <"$output_dir/$name.ipynb")
  echo "notebooks.sh: wrote $output_dir/$name.ipynb ($((bytes / 1024)) kB)" >&2
  # GitHub shows notebooks up to about 1 MB comfortably; the tests hold them to that.
  if [ "$bytes" -gt 1048576 ]; then
    echo "notebooks.sh: warning: $name.ipynb is over 1 MB; store fewer or smaller pictures" >&2
  fi
done
