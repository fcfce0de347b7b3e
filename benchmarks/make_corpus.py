"""Generate a realistic, synthetic efflit knowledge base for benchmarks.

    python benchmarks/make_corpus.py OUT_DIR --records 10000 [--seed 1]

Writes OUT_DIR/taxonomy.yaml (a copy of the repository's), OUT_DIR/papers/<id>.yaml
and OUT_DIR/papers/references.bib with one entry per record, plus OUT_DIR/corpus.json
naming the records, seed and generator digest that made it.  The same arguments
always give byte-identical files.  Every name and title is made up: authors come
from syllable pools and follow a Zipf law (a few write hundreds of papers), titles
from a technical vocabulary, kept far enough apart that efflit's near-duplicate
check finds (almost) nothing.  The corpus passes `efflit check` without errors;
about 3% of records list no authors, which gives one expected warning.
"""

from __future__ import annotations

import argparse
import datetime
import hashlib
import itertools
import json
import random
import re
import shutil
import sys
import textwrap
import unicodedata
from collections.abc import Iterator
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parent.parent
MARKER = "corpus.json"

FIRST = (
    [
        "A",
        "Ba",
        "Ce",
        "Da",
        "E",
        "Fa",
        "Ha",
        "I",
        "Ja",
        "Ka",
        "Le",
        "Ma",
        "Na",
        "O",
        "Pe",
        "Ra",
        "Sa",
        "Ta",
        "Va",
        "Yu",
        "Zo",
    ],
    ["ri", "len", "mo", "na", "sha", "ko", "vin", "dra", "lia", "ren", "to", "mi", "han", "su", "bel"],
)
LAST = (
    [
        "Ab",
        "Bor",
        "Cal",
        "Dem",
        "Ek",
        "Fen",
        "Gar",
        "Hol",
        "Ir",
        "Jun",
        "Kov",
        "Lin",
        "Mor",
        "Nak",
        "Or",
        "Pel",
        "Quin",
        "Ros",
        "Sal",
        "Tan",
        "Ul",
        "Var",
        "Wen",
        "Yam",
        "Zel",
    ],
    ["a", "e", "i", "o", "u", "er", "an", "is", "or", "ad"],
    [
        "son",
        "ova",
        "ez",
        "ski",
        "ani",
        "oto",
        "ang",
        "berg",
        "ier",
        "ström",
        "ić",
        "ña",
        "ley",
        "mann",
        "ucci",
        "ard",
        "ton",
        "ell",
        "ino",
        "ura",
        "ek",
        "sen",
    ],
)
PARTICLES = ["van der", "de", "di", "von"]
LATEX_ACCENTS = {"ö": '{\\"o}', "ć": "{\\'c}", "ñ": "{\\~n}"}

NAME_PARTS = (
    ["Fl", "Qu", "Sp", "Tr", "Z", "M", "K", "V", "L", "R", "Gr", "Pr", "St", "N", "H", "D", "B", "Ch", "X", "Sk"],
    ["a", "e", "i", "o", "u", "ai", "eo", "y"],
    ["x", "n", "r", "sh", "m", "l", "ck", "t", "ve", "z", "lt", "rn"],
    ["", "", "", "LM", "Net", "Former", "-KV", "Q", "Serve", "Tune"],
)
ADJECTIVES = [
    "Sparse",
    "Adaptive",
    "Low-Rank",
    "Quantized",
    "Structured",
    "Dynamic",
    "Hierarchical",
    "Progressive",
    "Memory-Efficient",
    "Hardware-Aware",
    "Lossless",
    "Mixed-Precision",
    "Speculative",
    "Parallel",
    "Distributed",
    "Streaming",
    "Block-Wise",
    "Token-Level",
    "Layer-Wise",
    "Data-Free",
    "Training-Free",
    "Calibration-Free",
    "Differentiable",
    "Learned",
    "Recurrent",
    "Linear-Time",
    "Kernelized",
    "Gated",
    "Elastic",
    "Outlier-Aware",
    "Second-Order",
    "Zero-Shot",
    "Continual",
    "Federated",
    "Asynchronous",
    "Pipelined",
    "Fused",
    "Cache-Aware",
    "Energy-Efficient",
    "Compute-Optimal",
    "Scalable",
    "Robust",
    "Provable",
    "Unified",
    "Lightweight",
    "Anytime",
    "Budgeted",
    "Curriculum-Guided",
    "Entropy-Based",
    "Sub-Quadratic",
    "Ternary",
    "Binary",
    "Decoupled",
    "Heterogeneous",
    "Reversible",
    "Self-Speculative",
]
METHODS = [
    "Attention",
    "Pruning",
    "Quantization",
    "Distillation",
    "Adapters",
    "Mixture-of-Experts",
    "Key-Value Caching",
    "Decoding",
    "Tokenization",
    "Fine-Tuning",
    "Pre-Training",
    "Expert Routing",
    "Offloading",
    "Activation Checkpointing",
    "Optimizers",
    "Embeddings",
    "State Space Models",
    "Prompt Compression",
    "Retrieval",
    "Sampling",
    "Request Scheduling",
    "Continuous Batching",
    "GPU Kernels",
    "Sparsification",
    "Matrix Factorization",
    "Model Merging",
    "Tensor Parallelism",
    "Data Selection",
    "Deduplication",
    "Positional Encodings",
    "Gradient Compression",
    "Weight Sharing",
    "Early Exiting",
    "Layer Dropping",
    "Rank Allocation",
    "Prefix Tuning",
    "Loss Scaling",
    "Context Extension",
    "Token Merging",
    "Draft Models",
]
TARGETS = [
    "Large Language Models",
    "Long-Context Inference",
    "Edge Devices",
    "Multilingual Transformers",
    "Code Generation",
    "Commodity GPUs",
    "Instruction Tuning",
    "Vision-Language Models",
    "Low-Resource Languages",
    "On-Device Assistants",
    "Mathematical Reasoning",
    "Memory-Bound Serving",
    "Retrieval-Augmented Generation",
    "Speech Recognition",
    "Trillion-Parameter Training",
    "Mobile Processors",
    "Multi-Tenant Clusters",
    "Dialogue Agents",
    "Scientific Text",
    "Tabular Data",
    "Encoder-Decoder Models",
    "Billion-Scale Pre-Training",
    "Consumer Laptops",
    "Batch Inference",
    "Streaming Applications",
    "Preference Optimization",
    "Small Language Models",
    "Protein Sequences",
    "Legal Documents",
    "Wafer-Scale Accelerators",
    "Heterogeneous Clusters",
    "Federated Clients",
]
TECHNIQUES = [
    "Learned Rotations",
    "Hessian Sketches",
    "Lookup Tables",
    "Random Projections",
    "Gradient Signals",
    "Optimal Transport",
    "Bilevel Optimization",
    "Reinforcement Learning",
    "Evolutionary Search",
    "Dynamic Programming",
    "Importance Scores",
    "Shared Codebooks",
    "Block Circulant Weights",
    "Residual Correction",
    "Online Statistics",
    "Tree Search",
    "Contrastive Objectives",
    "Influence Functions",
    "Spectral Analysis",
    "Lagrangian Relaxation",
    "Cyclic Schedules",
    "Auxiliary Heads",
    "Synthetic Calibration Data",
    "Integer Arithmetic",
    "Chunked Prefill",
    "Paged Memory",
    "Ring Communication",
    "Hash Buckets",
    "Locality-Sensitive Hashing",
    "Teacher Ensembles",
    "Momentum Buffers",
    "Bit Packing",
]
GERUNDS = [
    "Compressing",
    "Accelerating",
    "Distilling",
    "Pruning",
    "Scaling",
    "Serving",
    "Sparsifying",
    "Quantizing",
    "Extending",
    "Training",
    "Merging",
    "Routing",
]
PROPERTIES = [
    "Stability",
    "Limits",
    "Robustness",
    "Sample Complexity",
    "Convergence",
    "Hidden Costs",
    "Expressivity",
    "Calibration",
    "Reproducibility",
    "Energy Footprint",
    "Failure Modes",
]
QUALIFIERS = [
    "at 4-Bit Precision",
    "in a Single Pass",
    "without Retraining",
    "at Million-Token Scale",
    "on a Single GPU",
    "under Tight Latency Budgets",
    "with Provable Guarantees",
    "in Linear Time",
    "at Inference Time",
    "under Distribution Shift",
    "with Minimal Accuracy Loss",
    "from Scratch",
    "across Hardware Generations",
    "in Under an Hour",
    "at Any Sparsity",
    "with Limited Data",
    "in Constant Memory",
    "beyond the Context Window",
    "with Zero Overhead",
    "at Datacenter Scale",
    "on the Fly",
    "without Labels",
    "with Bounded Error",
    "in Practice",
    "at the Edge",
    "for Free",
]
TITLES = {  # pattern: weight; slots pick from POOLS, {name} is a coined name
    "{name}: {adj} {method} for {target} {qualifier}": 3,
    "{name}: {adj} {method} for {target} via {technique}": 3,
    "{adj} {method} for {target} via {technique} {qualifier}": 3,
    "Towards {adj} {method} for {target} with {technique}": 2,
    "{name}: {gerund} {target} {qualifier} with {adj} {technique}": 2,
    "{gerund} {target} through {adj} {method} and {technique}": 2,
    "{method} with {technique}: {adj} Recipes for {target}": 1,
    "On the {property} of {adj} {method} {qualifier}": 1,
    "Rethinking {method} for {target} {qualifier}": 1,
}
SHARED_LIMIT = 0.6  # no two titles of a pattern share slots and text making up this much of either
MAX_TRIES = 100_000  # consecutive rejected titles after which the vocabulary counts as exhausted
POOLS = {
    "adj": ADJECTIVES,
    "method": METHODS,
    "target": TARGETS,
    "technique": TECHNIQUES,
    "gerund": GERUNDS,
    "property": PROPERTIES,
    "qualifier": QUALIFIERS,
}
# The vocabulary above runs short near 40,000 titles: each needs ever more tries to find room.  Titles after
# the first STAGE_ONE draw from it widened by these patterns and words, while earlier ones draw exactly as before,
# so a corpus of up to STAGE_ONE records is the same as it was before they were added.
STAGE_ONE = 40_000
MORE_TITLES = {
    "{name}: Combining {adj} {method} and {technique} for {target}": 3,
    "{adj} {method} and {technique} for {target} {qualifier}": 3,
    "{name}: {gerund} {target} with {adj} {method} {qualifier}": 2,
    "Beyond {method}: {adj} {technique} for {target} {qualifier}": 2,
    "{adj} {technique} for {method} in {target}": 2,
    "An Empirical Study of {adj} {method} for {target} with {technique}": 1,
    "Revisiting {technique} for {adj} {method}: Evidence from {target}": 1,
    "On the {property} of {method} for {target} with {technique}": 1,
}
MORE_WORDS = {
    "adj": [
        "Post-Training",
        "Precision-Aware",
        "Latency-Aware",
        "Bandwidth-Aware",
        "Context-Aware",
        "Query-Aware",
        "Length-Adaptive",
        "Semi-Structured",
        "Fine-Grained",
        "Coarse-to-Fine",
        "Cross-Layer",
        "Head-Wise",
        "Channel-Wise",
        "Group-Wise",
        "Vector-Quantized",
        "Nested",
        "Multi-Granular",
        "Task-Agnostic",
        "Instance-Adaptive",
        "Online",
        "Iterative",
        "Stochastic",
        "Bayesian",
        "Attention-Free",
        "Load-Balanced",
        "Fault-Tolerant",
        "Privacy-Preserving",
        "Communication-Efficient",
        "Parameter-Efficient",
        "Sample-Efficient",
        "Token-Efficient",
        "Saliency-Aware",
        "Locality-Aware",
        "Approximate",
        "Randomized",
        "Hybrid",
        "Modular",
        "Composable",
        "Interpretable",
        "Certified",
        "Decentralized",
        "Multi-Stage",
        "Amortized",
        "Incremental",
        "Predictive",
        "Error-Bounded",
    ],
    "method": [
        "Weight Quantization",
        "Activation Quantization",
        "Cache Eviction",
        "Head Pruning",
        "Depth Pruning",
        "Token Pruning",
        "Vocabulary Trimming",
        "Operator Fusion",
        "Memory Planning",
        "Graph Compilation",
        "Kernel Autotuning",
        "Beam Search",
        "Lookahead Decoding",
        "Parallel Decoding",
        "Sliding-Window Attention",
        "Grouped-Query Attention",
        "Linear Attention",
        "Low-Rank Adaptation",
        "Pipeline Parallelism",
        "Sequence Parallelism",
        "Expert Parallelism",
        "Parameter Sharding",
        "Prompt Caching",
        "Prefix Caching",
        "Model Cascades",
        "Model Routing",
        "Knowledge Editing",
        "Vocabulary Expansion",
        "Data Mixing",
        "Curriculum Learning",
        "Checkpoint Averaging",
        "Sparse Upcycling",
        "Activation Sparsity",
        "Outlier Suppression",
        "Rotary Embeddings",
        "Normalization Layers",
        "Memory Tokens",
        "Soft Prompts",
        "Hypernetworks",
        "Reward Modeling",
    ],
    "target": [
        "Code Completion",
        "Chat Assistants",
        "Search Engines",
        "Recommendation Systems",
        "Machine Translation",
        "Abstractive Summarization",
        "Open-Domain Question Answering",
        "Time-Series Forecasting",
        "Genomic Sequences",
        "Clinical Notes",
        "Financial Reports",
        "Embedded Systems",
        "Microcontrollers",
        "Smartphones",
        "Serverless Platforms",
        "Spot Instances",
        "TPU Pods",
        "FPGA Accelerators",
        "CPU-Only Servers",
        "Shared GPU Clusters",
        "Tool-Using Agents",
        "Multimodal Assistants",
        "Audio Language Models",
        "Video Understanding",
        "Document Understanding",
        "Long-Form Generation",
        "Agentic Workflows",
        "Chain-of-Thought Reasoning",
        "Open-Weight Models",
        "Diffusion Language Models",
        "Low-Latency Serving",
        "Continual Pre-Training",
        "Domain Adaptation",
        "Sparse Transformers",
    ],
    "technique": [
        "Sinkhorn Iterations",
        "Gumbel-Softmax Relaxation",
        "Straight-Through Estimators",
        "Fisher Information",
        "Taylor Expansions",
        "Kronecker Factors",
        "Tensor Decompositions",
        "Hadamard Transforms",
        "Fourier Features",
        "Product Quantization",
        "Bloom Filters",
        "Integer Programming",
        "Submodular Selection",
        "Bayesian Optimization",
        "Architecture Search",
        "Genetic Algorithms",
        "Simulated Annealing",
        "Monte Carlo Sampling",
        "Variational Inference",
        "Attention Entropy",
        "Mutual Information",
        "Lottery Tickets",
        "Weight Magnitudes",
        "Activation Statistics",
        "Learned Masks",
        "Block Scaling",
        "Microscaling Formats",
        "Stochastic Rounding",
        "Error Feedback",
        "Asynchronous Prefetching",
        "Cost Models",
        "Roofline Analysis",
        "Queueing Theory",
        "Control Theory",
        "Low-Precision Accumulators",
        "Sparse Tensor Cores",
    ],
    "gerund": [
        "Adapting",
        "Deploying",
        "Specializing",
        "Calibrating",
        "Shrinking",
        "Speeding Up",
        "Fine-Tuning",
        "Parallelizing",
        "Benchmarking",
        "Compiling",
    ],
    "property": [
        "Scaling Behavior",
        "Generalization",
        "Optimization Landscape",
        "Sensitivity",
        "Interpretability",
        "Memory Footprint",
        "Numerical Precision",
        "Brittleness",
        "Transferability",
        "Sample Efficiency",
        "Inductive Bias",
        "Effective Rank",
        "Redundancy",
        "Fairness",
        "Carbon Cost",
    ],
    "qualifier": [
        "at Trillion-Token Scale",
        "with a Single Line of Code",
        "in Two Stages",
        "without Calibration Data",
        "under Memory Pressure",
        "at Scale",
        "in the Wild",
        "on Commodity Hardware",
        "across Modalities",
        "across Languages",
        "in Real Time",
        "at Sub-Second Latency",
        "with Negligible Overhead",
        "under Adversarial Inputs",
        "in Low-Data Regimes",
        "at Extreme Compression Rates",
        "at 2-Bit Precision",
        "without Backpropagation",
        "with Frozen Weights",
        "by Design",
        "at a Fraction of the Cost",
        "on a Budget",
        "on Long Sequences",
        "with Certified Accuracy",
        "under Privacy Constraints",
        "in Hours Instead of Days",
    ],
}
WIDE_TITLES = TITLES | MORE_TITLES
WIDE_POOLS = {key: words + MORE_WORDS[key] for key, words in POOLS.items()}

VENUES = {
    "arXiv": 30,
    "NeurIPS": 14,
    "ICML": 11,
    "ICLR": 12,
    "ACL": 6,
    "EMNLP": 6,
    "NAACL": 3,
    "MLSys": 3,
    "TMLR": 3,
    "COLM": 2,
    "AAAI": 3,
    "OSDI": 1,
    "JMLR": 1,
    None: 5,
}
JOURNALS = {"arXiv", "TMLR", "JMLR"}
ACL_VENUES = {"ACL": "acl-long", "EMNLP": "emnlp-main", "NAACL": "naacl-long"}
SUMMARY_OPENERS = [  # those naming {name} are for titles with a coined name, the others for the rest
    "We introduce {name}, a *{adj}* approach to {method} for {target}.",
    "{name} combines {method} with {technique} to serve {target}.",
    "This paper studies {method} for {target} and shows that *{adj}* variants suffice.",
    "We show that {method} for {target} gains from {technique} more than from scale.",
]
SUMMARY_FOLLOWERS = [
    "It cuts memory by {factor}x on `{model}` with no loss in accuracy.",
    "The method needs no retraining and runs in `{model}` out of the box.",
    "Compared with *dense* baselines, throughput improves {factor}x at equal quality.",
    "Code and checkpoints are linked from [the project page](https://example.org/{id}).",
    "See the [appendix](https://example.org/{id}/appendix) for the `{model}` ablations.",
    "Gains grow with context length and are largest at *small* batch sizes.",
]
LETTERS = "abcdefghijklmnopqrstuvwxyz"
SUFFIXES = ["", *LETTERS[1:], *(a + b for a in LETTERS[1:] for b in LETTERS)]  # de-duplicate ids: b, c, ..., ba, ...


class _Dumper(yaml.SafeDumper):
    """Indents list items under their key and writes multi-line text as a `|` block."""

    def increase_indent(self, flow: bool = False, indentless: bool = False) -> None:
        super().increase_indent(flow, False)


_Dumper.add_representer(
    str, lambda d, s: d.represent_scalar("tag:yaml.org,2002:str", s, style="|" if "\n" in s else None)
)


def ascii_slug(text: str) -> str:
    """Lowercase ASCII letters and digits, words joined by single hyphens: `Llm-Pruner:` is `llm-pruner`."""
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()
    return "-".join(re.findall(r"[a-z0-9]+", folded))


def zipf_cum_weights(n: int, exponent: float) -> list[float]:
    return list(itertools.accumulate(1 / rank**exponent for rank in range(1, n + 1)))


class Generator:
    """Draws records one by one from a seeded RNG, keeping ids, titles and arXiv ids unique."""

    def __init__(self, records: int, seed: int, leaves: list[str]) -> None:
        self.rng = random.Random(seed)
        authors: dict[str, None] = {}  # an ordered set: iteration order must not depend on hashing
        while len(authors) < max(10, round(0.3 * records)):
            authors[self._author()] = None
        self.authors = list(authors)
        self.author_weights = zipf_cum_weights(len(self.authors), 0.6)
        self.leaves = self.rng.sample(leaves, len(leaves))  # shuffled, then Zipf-weighted by position
        self.leaf_weights = zipf_cum_weights(len(self.leaves), 0.8)
        self.names: set[str] = set()
        self.title_keys: set[tuple] = set()
        self.ids: set[str] = set()
        self.arxiv_ids: set[str] = set()
        self.dois = itertools.count(1)

    def _author(self) -> str:
        r = self.rng
        first = r.choice(FIRST[0]) + r.choice(FIRST[1]) + (r.choice(FIRST[1]) if r.random() < 0.3 else "")
        last = r.choice(LAST[0]) + r.choice(LAST[1]) + r.choice(LAST[2])
        if r.random() < 0.03:
            last = f"{r.choice(PARTICLES)} {last}"
        initial = f" {r.choice('ABCDEFGHJKLMNPRST')}." if r.random() < 0.1 else ""
        return f"{first}{initial} {last}"

    def _coined_name(self) -> str:
        onsets, vowels, codas, endings = NAME_PARTS
        while True:
            r = self.rng
            word = "".join(r.choice(onsets) + r.choice(vowels) + r.choice(codas) for _ in range(2))
            name = word.capitalize() + r.choice(endings)
            if name not in self.names:
                self.names.add(name)
                return name

    def _title(self) -> tuple[str, dict[str, str]]:
        """A title that shares with no earlier title of its pattern (a coined name aside) slot values
        which, with the pattern's own text, make up SHARED_LIMIT of its length: no near duplicates."""
        titles, pools = (TITLES, POOLS) if len(self.ids) < STAGE_ONE else (WIDE_TITLES, WIDE_POOLS)
        for _ in range(MAX_TRIES):
            pattern = self.rng.choices(list(titles), list(titles.values()))[0]
            slots = {key: self.rng.choice(pools[key]) for key in re.findall(r"{(\w+)}", pattern) if key != "name"}
            family = pattern.removeprefix("{name}: ")
            # keys made lazily, as most tries are turned down at one of the first; a kept title's are made again
            if not any(key in self.title_keys for key in title_keys(family, slots)):
                self.title_keys.update(title_keys(family, slots))
                if family != pattern:
                    slots["name"] = self._coined_name()
                return pattern.format(**slots), slots
        sys.exit(f"the title vocabulary is exhausted after {len(self.ids)} records; extend the pools")

    def _arxiv(self, year: int) -> str:
        while True:
            arxiv = f"{year % 100:02d}{self.rng.randint(1, 12):02d}.{self.rng.randrange(100, 25000):05d}"
            if arxiv not in self.arxiv_ids:
                self.arxiv_ids.add(arxiv)
                return arxiv

    def _id(self, authors: list[str], year: int, title: str) -> str:
        first_word = ascii_slug(title.split()[0])
        if authors:
            base = f"{ascii_slug(split_name(authors[0])[1]).replace('-', '')}{year}{first_word}"
        else:  # as the curated records do: first title word and year
            base = f"{first_word}{year}"
        record_id = next(base + s for s in SUFFIXES if base + s not in self.ids)
        self.ids.add(record_id)
        return record_id

    def _summary(self, record_id: str, slots: dict[str, str]) -> str:
        r = self.rng
        words = {
            "name": slots.get("name"),
            "adj": r.choice(ADJECTIVES).lower(),
            "method": slots.get("method", r.choice(METHODS)).lower(),
            "target": slots.get("target", r.choice(TARGETS)),
            "technique": slots.get("technique", r.choice(TECHNIQUES)).lower(),
            "id": record_id,
            "factor": f"{r.uniform(1.2, 8):.1f}",
            "model": f"{self._coined_name().lower()}-{r.choice([1, 7, 13, 70])}b",
        }
        openers = [o for o in SUMMARY_OPENERS if ("{name}" in o) == ("name" in slots)]
        sentences = [r.choice(openers), *r.sample(SUMMARY_FOLLOWERS, r.randint(0, 2))]
        text = " ".join(s.format(**words) for s in sentences)
        return textwrap.fill(text, width=88, break_long_words=False, break_on_hyphens=False) + "\n"

    def record(self) -> dict:
        r = self.rng
        title, slots = self._title()
        authors = (
            []
            if r.random() < 0.03
            else self._draw(self.authors, self.author_weights, r.choices(range(1, 7), [10, 18, 22, 20, 16, 14])[0])
        )
        year = r.choices(range(2015, 2027), [1.35**i for i in range(12)])[0]
        venue = r.choices(list(VENUES), list(VENUES.values()))[0]
        record = {"id": self._id(authors, year, title), "title": title, "authors": authors, "year": year}
        if venue:
            record["venue"] = venue
        if venue == "arXiv" or r.random() < 0.57:
            record["arxiv"] = self._arxiv(year if venue == "arXiv" else max(2015, year - r.randint(0, 1)))
        if venue in ACL_VENUES:
            record["doi"] = f"10.18653/v1/{year}.{ACL_VENUES[venue]}.{next(self.dois)}"
        if r.random() < 0.35:
            lab = ascii_slug(split_name(r.choice(self.authors))[1])
            record["code"] = f"https://github.com/{lab}-lab/{ascii_slug(title.split()[0])}"
        record["tags"] = self._draw(self.leaves, self.leaf_weights, r.choices([1, 2, 3], [55, 35, 10])[0])
        if r.random() < 0.6:
            record["summary"] = self._summary(record["id"], slots)
        record["source"] = [{"person": "efflit benchmark generator"}]
        record["added"] = datetime.date(2025, 1, 1) + datetime.timedelta(days=r.randrange(694))
        return record

    def _draw(self, pool: list[str], cum_weights: list[float], count: int) -> list[str]:
        """`count` distinct items drawn with the given (cumulative) weights."""
        drawn: dict[str, None] = {}
        while len(drawn) < count:
            drawn[self.rng.choices(pool, cum_weights=cum_weights)[0]] = None
        return list(drawn)


def title_keys(family: str, slots: dict[str, str]) -> Iterator[tuple]:
    """The pattern family with each set of slot values that, with the family's own text, make up SHARED_LIMIT of
    the title: smallest sets first."""
    size = len(family.format(**slots))
    fixed = size - sum(map(len, slots.values()))
    items = sorted(slots.items())
    return (
        (family, *subset)
        for r in range(len(items) + 1)
        for subset in itertools.combinations(items, r)
        if fixed + sum(len(v) for _, v in subset) >= SHARED_LIMIT * size
    )


def split_name(name: str) -> tuple[str, str]:
    """`Ana M. van der Berg` as (`Ana M.`, `van der Berg`): a family name is the last word or starts at a particle."""
    words = name.split()
    split = next((i for i, w in enumerate(words[1:], 1) if w.islower()), len(words) - 1)
    return " ".join(words[:split]), " ".join(words[split:])


def bib_name(name: str) -> str:
    """`Ana M. van der Berg` as `van der Berg, Ana M.`, accents in LaTeX."""
    given, family = split_name(name)
    return "".join(LATEX_ACCENTS.get(c, c) for c in f"{family}, {given}")


def bib_entry(record: dict) -> str:
    venue, arxiv = record.get("venue"), record.get("arxiv")
    title = record["title"]
    if ":" in title:  # protect the capitals of a coined name, as BibTeX files usually do
        head, rest = title.split(":", 1)
        title = f"{{{head}}}:{rest}"
    fields = {"title": title}
    if record["authors"]:
        fields["author"] = " and ".join(bib_name(a) for a in record["authors"])
    fields["year"] = str(record["year"])
    if venue == "arXiv":
        fields["journal"] = f"arXiv preprint arXiv:{arxiv}"
    elif venue:
        fields["journal" if venue in JOURNALS else "booktitle"] = venue
    if "doi" in record:
        fields["doi"] = record["doi"]
    if arxiv:
        fields.update(eprint=arxiv, archiveprefix="arXiv")
    kind = "misc" if venue is None else "article" if venue in JOURNALS else "inproceedings"
    body = ",\n".join(f"  {k} = {{{v}}}" for k, v in fields.items())
    return f"@{kind}{{{record['id']},\n{body}\n}}\n"


def taxonomy_leaves(path: Path) -> list[str]:
    """Tag paths of the taxonomy's leaf nodes, in file order."""

    def walk(nodes: list[dict], prefix: str) -> list[str]:
        paths = []
        for node in nodes:
            path = f"{prefix}{node['slug']}"
            paths += walk(node["children"], path + "/") if node.get("children") else [path]
        return paths

    return walk(yaml.safe_load(path.read_text(encoding="utf-8"))["nodes"], "")


def write_corpus(out: Path, records: int, seed: int) -> None:
    """Write the corpus into ``out``, replacing an earlier generated corpus there."""
    if (out / MARKER).is_file():
        shutil.rmtree(out)
    elif out.exists() and any(out.iterdir()):
        sys.exit(f"{out} exists and holds no generated corpus ({MARKER}); refusing to overwrite it")
    papers = out / "papers"
    papers.mkdir(parents=True)
    shutil.copyfile(REPO / "taxonomy.yaml", out / "taxonomy.yaml")
    generator = Generator(records, seed, taxonomy_leaves(REPO / "taxonomy.yaml"))
    entries = []
    for _ in range(records):
        record = generator.record()
        text = yaml.dump(record, Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=10_000)
        (papers / f"{record['id']}.yaml").write_text(text, encoding="utf-8")
        entries.append(bib_entry(record))
    (papers / "references.bib").write_text("\n".join(entries), encoding="utf-8")
    (out / MARKER).write_text(json.dumps(corpus_marker(records, seed), indent=2) + "\n", encoding="utf-8")


def corpus_marker(records: int, seed: int) -> dict:
    """What identifies a generated corpus: its size, seed and the generator's source."""
    digest = hashlib.sha256(Path(__file__).read_bytes()).hexdigest()[:16]
    return {"records": records, "seed": seed, "generator": digest}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("out", type=Path, help="folder to write the knowledge base into")
    parser.add_argument("--records", type=int, default=10_000, help="number of records (default 10000)")
    parser.add_argument("--seed", type=int, default=1, help="random seed (default 1)")
    args = parser.parse_args()
    write_corpus(args.out, args.records, args.seed)


if __name__ == "__main__":
    main()
