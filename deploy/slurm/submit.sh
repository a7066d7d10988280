#!/usr/bin/env bash
# Submits a sharded mocksmith command as a Slurm job array plus a merge job that starts only
# when every submitted task succeeded (afterok), and is cancelled if one fails.
#
#   deploy/slurm/submit.sh -n 64 -w /scratch/run1 -o /project/set1 -- nbody-set --sims 1000 --grid 128 --box 256
#   deploy/slurm/submit.sh -n 64 -w /scratch/run1 -o /project/set1 --only 5,17 -- nbody-set ...   # rerun shards 5 and 17
#
# Prints "ARRAY_JOB_ID MERGE_JOB_ID". Extra sbatch options (partition, account, time) go in
# SBATCH_* environment variables or MOCKSMITH_SBATCH_ARGS (applied to both jobs).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
shards="" work="" output="" only=""
while [ "$#" -gt 0 ]; do
  case "$1" in
    -n) shards=$2; shift 2 ;;
    -w) work=$2; shift 2 ;;
    -o) output=$2; shift 2 ;;
    --only) only=$2; shift 2 ;;
    --) shift; break ;;
    *) echo "usage: $0 -n SHARDS -w WORKDIR -o OUTPUT [--only i,j,...] -- COMMAND [OPTIONS...]" >&2; exit 2 ;;
  esac
done
if [ -z "$shards" ] || [ -z "$work" ] || [ -z "$output" ] || [ "$#" -eq 0 ]; then
  echo "usage: $0 -n SHARDS -w WORKDIR -o OUTPUT [--only i,j,...] -- COMMAND [OPTIONS...]" >&2
  exit 2
fi
mkdir -p "$work"
work=$(cd "$work" && pwd)
case "$output" in /*) ;; *) output="$PWD/$output" ;; esac
read -r -a extra <<<"${MOCKSMITH_SBATCH_ARGS:-}"
export MOCKSMITH_SHARDS=$shards MOCKSMITH_WORK=$work MOCKSMITH_OUTPUT=$output
array=$(sbatch --parsable "${extra[@]}" --array="${only:-0-$((shards - 1))}" --chdir="$work" \
  "$here/mocksmith-array.sbatch" "$@")
array=${array%%;*}
merge=$(sbatch --parsable "${extra[@]}" --dependency="afterok:$array" --kill-on-invalid-dep=yes \
  --chdir="$work" "$here/mocksmith-merge.sbatch")
echo "$array ${merge%%;*}"
