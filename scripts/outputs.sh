#!/usr/bin/env bash
# The comparison list: every command a refactor must leave byte-identical, run with one binary.
# Writes each command's stdout, stderr and exit code into OUT_DIR and prints one md5 line per
# command; run it with the old and the new binary and diff the two listings.
#
#     scripts/outputs.sh target/release/gradtutor /tmp/before > /tmp/before.md5
#     scripts/outputs.sh target/release/gradtutor /tmp/after  > /tmp/after.md5
#     diff /tmp/before.md5 /tmp/after.md5 && echo identical
#
# Progress and data files go to a fresh temporary folder, so the runs never touch yours.
set -u
bin=$(realpath "$1")
out=${2:-/tmp/gradtutor-outputs}
rm -rf "$out"
mkdir -p "$out"
cd "$(dirname "$0")/.."
home=$(mktemp -d)
export XDG_DATA_HOME="$home/data" HOME="$home" NO_COLOR=1 GRADTUTOR_THREADS=2
unset GRADTUTOR_QUESTIONS GRADTUTOR_PROGRESS GRADTUTOR_MAX_MEMORY

n=0
run() {
    n=$((n + 1))
    local name
    name=$(printf '%03d' "$n")
    (cd "$home" && "$bin" "$@" >"$out/$name.out" 2>"$out/$name.err" </dev/null)
    echo $? >"$out/$name.rc"
    # The progress file's timestamps and the temporary folder's name are the only things
    # that move from run to run; take them out before hashing.
    sum=$(cat "$out/$name.out" "$out/$name.err" "$out/$name.rc" | sed -e "s#$home#HOME#g" |
        sed -E 's/[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2} UTC/TIME/g' | md5sum | cut -c1-32)
    printf '%s  %s\n' "$sum" "${*//$home/HOME}"
}

experiments=(vanishing exploding activations init batchnorm he residual clipping precision
    layernorm skipinit recurrent isometry phase)

run --help
run list
run demos
for e in "${experiments[@]}"; do
    run demo "$e"
    run demo "$e" --json
done
run demo vanishing --depth 8 --activation tanh --seeds 3
run demo vanishing --depth 12 --precision f64 --bn --json
run demo exploding --precision f64 --depth 30
run demo init --activation relu
run demo init --activation relu --json
run demo residual --norm layer --residual pre --depth 10
run demo recurrent --cell lstm --seq-len 20 --json
run demo recurrent --activation linear --init orthogonal:1.1
run demo isometry --bias-std 0.3 --depth 8
run demo precision --loss-scale 4096
run demo clipping --clip-norm 0.5 --json
run demo vanishing --plot "$home/v.svg"
cat "$home/v.svg" >>"$out/$(printf '%03d' "$n").out"
run demo recurrent --plot "$home/r.svg"
cat "$home/r.svg" >>"$out/$(printf '%03d' "$n").out"
run demo phase --plot "$home/p.svg"
cat "$home/p.svg" >>"$out/$(printf '%03d' "$n").out"
for q in $(seq 1 19); do
    run ask "$q" --no-train
done
run ask 1
run ask 19 --json
run train
run train --json
run train --plot "$home/t.svg"
cat "$home/t.svg" >>"$out/$(printf '%03d' "$n").out"
run quiz --question 1 --answers "12.3,b,c"
run quiz --seed 7 --count 5 --answers "a,b,c,d,a"
run progress
run progress --json
run roster "$home/data/gradtutor/progress.json"
run roster --format csv "$home/data/gradtutor/progress.json"
run roster --format markdown "$home/data/gradtutor/progress.json"
run check questions
run export --format markdown
run export --format html
run bank dump "$home/bank"
run check "$home/bank"
run man
run completions bash
# Refusals: each must keep its message and exit code.
run ask 99
run demo nosuch
run demo vanishing --depth 0
run demo vanishing --width 100000 --depth 100000
run demo activations --activation relu
run demo vanishing --residual pre
run demo vanishing --branch-scale 0.5
run demo recurrent --depth 3
run demo vanishing --cell lstm
run train --compare nosuch
run check "$home/nosuch"
printf 'id = 1\nslug = "x"\ntitle = 3\n' >"$home/bad.toml"
mkdir -p "$home/badbank" && cp "$home/bad.toml" "$home/badbank/"
run check "$home/badbank"
run --questions "$home/badbank" list
# Real digits and --data (issue 29).
run train --dataset digits
run train --dataset digits --compare relu/he-normal --steps 60 --json
run ask 22
run train --dataset digits --samples 100
printf 'a,b,kind\n1,2,x\n3,4,y\n5,6,x\n7,8,y\n1,2,x\n3,4,y\n5,6,x\n7,8,y\n' >"$home/small.csv"
run train --data "$home/small.csv" --compare relu --depth 2 --width 4 --steps 10 --batch 2
printf 'a,b,kind\n1,z,x\n3,,y\n' >"$home/bad.csv"
run train --data "$home/bad.csv"
run train --data "mnist:$home/nosuch"
# demo attention (issue 29 part 4) and its question.
run demo attention
run demo attention --scale none
run demo attention --scale 8 --d-k 4,64 --json
run ask 20
run demo attention --d-k 0
run demo attention --depth 3
run demo vanishing --depth 3 --scale none
rm -rf "$home"
# Histograms (--hist, issue 29 part 3).
home=$(mktemp -d)
run demo vanishing --hist
run demo activations --depth 4 --hist --json
run demo vanishing --activation tanh --init orthogonal:2 --depth 1 --width 512 --precision f64 --hist
run demo phase --hist
run demo recurrent --hist
run train --compare sigmoid,relu --depth 3 --steps 20 --hist
# demo width and question 21 (issue 29, part 5).
run demo width
run demo width --param mup --widths 16,64 --json
run ask 21 --no-demo
run demo width --widths 64,32
run demo vanishing --widths 32
# Handouts an instructor tailors (issue 28): chosen questions in order, answers placed, no runs.
run export --only 5,1,dying-relu --no-runs --answers inline
run export --format html --only 2,12 --no-runs --answers end --paper a4
rm -rf "$home"
