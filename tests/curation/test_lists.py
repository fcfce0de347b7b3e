"""Parsers of the five Markdown paper lists, on real excerpts (tests/fixtures/lists/) and, when the
corpus is present, on the whole lists; and the section maps in sources/ against both."""

from __future__ import annotations

import re

import pytest
import yaml

from efflit.curation.curate import read_section_map
from efflit.curation.lists import FORMATS, ListEntry
from kbtools import FIXTURES, REPOSITORY

EXCERPTS = FIXTURES / "lists"
# The whole lists, beside the repository as the workplace keeps them; a fork's CI has them not.
CORPUS = REPOSITORY.parent / "shared" / "corpus" / "lists"
HEADINGS = EXCERPTS / "headings"  # the section headings the parser yields from each whole list
SOURCES = REPOSITORY / "sources"
ARXIV_ID = re.compile(r"\d{4}\.\d{4,5}|[a-z-]+(?:\.[A-Z]{2})?/\d{7}")


def parse(name: str) -> list[ListEntry]:
    return list(FORMATS[name]((EXCERPTS / f"{name}.md").read_text(encoding="utf-8")))


def test_all_five_formats_are_registered() -> None:
    assert set(FORMATS) == {"xnhyacinth", "huangowen", "aiot", "tiingweii", "albalak"}


def test_xnhyacinth() -> None:
    entries = parse("xnhyacinth")
    # the news block above "📜 Papers" (lines 3-8) repeats later entries: nothing comes from it
    assert min(entry.line for entry in entries) == 16
    assert entries == [
        # the period inside the bold is dropped; "Arxiv 2019." is venue arXiv, year 2019
        ListEntry(
            line=16,
            section="2.1 Sparse Attention",
            title="Generating Long Sequences with Sparse Transformers",
            authors=["Rewon Child", "Scott Gray", "Alec Radford", "Ilya Sutskever"],
            year=2019,
            venue="arXiv",
            arxiv="1904.10509",
        ),
        # an ACL Anthology link is a url, not a DOI; the star badge gives the code repository
        ListEntry(
            line=18,
            section="2.1 Sparse Attention",
            title="Blockwise selfattention for long document understanding",
            authors=["Jiezhong Qiu", "Hao Ma", "Omer Levy", "Wen-tau Yih", "Sinong Wang", "Jie Tang"],
            year=2020,
            venue="EMNLP",
            url="https://aclanthology.org/2020.findings-emnlp.232/",
            code="https://github.com/xptree/BlockBERT",
        ),
        ListEntry(
            line=20,
            section="2.1 Sparse Attention",
            title="Reformer: The efficient transformer",
            authors=["Nikita Kitaev", "Łukasz Kaiser", "Anselm Levskaya"],
            year=2020,
            venue="ICLR",
            arxiv="2001.04451",
            code="https://github.com/lucidrains/reformer-pytorch",
        ),
        # accents are kept as given
        ListEntry(
            line=22,
            section="2.1 Sparse Attention",
            title="Sparse and continuous attention mechanisms",
            authors=[
                "André F. T. Martins",
                "António Farinhas",
                "Marcos Treviso",
                "Vlad Niculae",
                "Pedro M. Q. Aguiar",
                "Mário A. T. Figueiredo",
            ],
            year=2020,
            venue="NIPS",
            arxiv="2006.07214",
        ),
        # an underscore inside a name does not end the author list
        ListEntry(
            line=30,
            section="3.1.4 Layer-Budget / Merge / Hybrid Eviction",
            title="EpiCache: Episodic KV Cache Management for Long Conversational Question Answering",
            authors=["Minsoo Kim", "Arnav Kundu", "Hana_Byul Kim", "Richa Dixit", "Minsik Cho"],
            year=2025,
            venue="arXiv",
            arxiv="2509.17396",
        ),
        # an author list closed by "_" without the period
        ListEntry(
            line=36,
            section="6.3 Length Extrapolation & Inference-Time Context Extension",
            title=(
                "Bayesian Attention Mechanism: A Probabilistic Framework for Positional Encoding "
                "and Context Length Extrapolation"
            ),
            authors=["Arthur S. Bianchessi", "Rodrigo C. Barros", "Lucas S. Kupssinskü"],
            year=2025,
            venue="arXiv",
            arxiv="2505.22842",
            code="https://github.com/ArthurSBianchessi/BAM",
        ),
        # a malformed star badge (its image link is not closed) gives no code link
        ListEntry(
            line=38,
            section="6.3 Length Extrapolation & Inference-Time Context Extension",
            title="Pause-Tuning for Long-Context Comprehension: A Lightweight Approach to LLM Attention Recalibration",
            authors=[
                "James Begin",
                "Namit Agrawal",
                "Eshan Singh",
                "Yicheng Fu",
                "Sean O'Brien",
                "Vasu Sharma",
                "Kevin Zhu",
            ],
            year=2025,
            venue="arXiv",
            arxiv="2502.20405",
        ),
        # a bracketed venue: "[ICML 2025]."
        ListEntry(
            line=42,
            section="7.2 Adaptation & RL for Long Context",
            title="LOGO -- Long cOntext aliGnment via efficient preference Optimization",
            authors=["Zecheng Tang", "Zechen Sun", "Juntao Li", "Qiaoming Zhu", "Min Zhang"],
            year=2025,
            venue="ICML",
            arxiv="2410.18533",
            code="https://github.com/ZetangForward/LCM_Stack",
        ),
        # an author list without its opening underscore
        ListEntry(
            line=46,
            section="18.3 Agentic Long-Horizon Benchmarks",
            title="SwingArena: Competitive Programming Arena for Long-context GitHub Issue Solving",
            authors=[
                "Wendong Xu",
                "Jing Xiong",
                "Chenyang Zhao",
                "Qiujiang Chen",
                "Haoran Wang",
                "Hui Shen",
                "Zhongwei Wan",
                "Jianbo Dai",
                "Taiqiang Wu",
                "He Xiao",
                "Chaofan Tao",
                "Z. Morley Mao",
                "Ying Sheng",
                "Zhijiang Guo",
                "Hongxia Yang",
                "Bei Yu",
                "Lingpeng Kong",
                "Quanquan Gu",
                "Ngai Wong",
            ],
            year=2025,
            venue="arXiv",
            arxiv="2505.23932",
        ),
        # "... et al." elides authors: an incomplete list must not look complete
        ListEntry(
            line=50,
            section="19. Technical Reports (Long-Context Models)",
            title="Kimi K2: Open Agentic Intelligence",
            year=2025,
            venue="arXiv",
            arxiv="2507.20534",
        ),
        # a blog: a year without venue, a link that is neither arXiv nor DOI
        ListEntry(
            line=54,
            section="20. Blogs & Tutorials",
            title="Extending Context is Hard…but not Impossible†",
            authors=["kaiokendev"],
            year=2023,
            url="https://kaiokendev.github.io/context",
        ),
    ]


def test_huangowen() -> None:
    # neither the table of contents nor the Tools section (BMCook, line 45) yields entries
    assert parse("huangowen") == [
        # the malformed "[[Blog]] (url)" is ignored; a free-form venue keeps its words
        ListEntry(
            line=19,
            section="Survey",
            title="Compressed but Compromised? A Study of Jailbreaking in Compressed LLMs",
            year=2025,
            venue="NeurIPS Lock-LLM Workshop",
            url="https://openreview.net/pdf?id=OkNfb8SmLh",
        ),
        # a venue without a year
        ListEntry(
            line=21,
            section="Survey",
            title="A Survey on Model Compression for Large Language Models",
            venue="TACL",
            arxiv="2308.07633",
        ),
        # "[[Code (DeepSpeed)]]" is a code link
        ListEntry(
            line=25,
            section="Quantization",
            title="ZeroQuant: Efficient and Affordable Post-Training Quantization for Large-Scale Transformers",
            year=2022,
            venue="NeurIPS",
            arxiv="2206.01861",
            code="https://github.com/microsoft/DeepSpeed",
        ),
        ListEntry(
            line=27,
            section="Quantization",
            title="LLM.int8(): 8-bit Matrix Multiplication for Transformers at Scale",
            year=2022,
            venue="NeurIPS",
            arxiv="2208.07339",
            code="https://github.com/TimDettmers/bitsandbytes",
        ),
        # so is the misspelt "[[Cde]]"
        ListEntry(
            line=31,
            section="Pruning and Sparsity",
            title=(
                "Flash-LLM: Enabling Cost-Effective and Highly-Efficient Large Generative Model Inference "
                "with Unstructured Sparsity"
            ),
            year=2024,
            venue="VLDB",
            arxiv="2309.10285",
            code="https://github.com/AlibabaResearch/flash-llm",
        ),
        # the venue and links on their own line, after a blank line
        ListEntry(
            line=33,
            section="Pruning and Sparsity",
            title="SDMPrune: Self-Distillation MLP Pruning for Efficient Large Language Models",
            year=2025,
            venue="arXiv",
            arxiv="2506.11120",
            code="https://github.com/visresearch/SDMPrune",
        ),
        # a "code" link that repeats the paper's arXiv page is no code link
        ListEntry(
            line=39,
            section="Other",
            title="Basis Sharing: Cross-Layer Parameter Sharing for Large Language Model Compression",
            year=2024,
            venue="arXiv",
            arxiv="2410.03765",
        ),
        # export.arxiv.org PDF link
        ListEntry(
            line=41,
            section="Other",
            title="On-Device Qwen2.5: Efficient LLM Inference with Model Compression and Hardware Acceleration",
            year=2025,
            venue="arXiv",
            arxiv="2504.17376",
        ),
    ]


def test_aiot() -> None:
    # neither the table of contents nor the frameworks table yields entries
    assert parse("aiot") == [
        # "[[Code]](url)" as well as "[[Code](url)]"; "<ins>ICML, 2025</ins>"
        ListEntry(
            line=13,
            section="Weight-Only Quantization",
            title="GuidedQuant: Large Language Model Quantization via Exploiting End Loss Guidance",
            year=2025,
            venue="ICML",
            arxiv="2505.07004",
            code="https://github.com/snu-mllab/GuidedQuant",
        ),
        ListEntry(
            line=14,
            section="Weight-Only Quantization",
            title="I-LLM: Efficient Integer-Only Inference for Fully-Quantized Low-Bit Large Language Models",
            year=2024,
            venue="arXiv",
            arxiv="2405.17849",
        ),
        # an indented bullet (" - ") is an entry too
        ListEntry(
            line=17,
            section="Evaluation of Post-Training Quantization",
            title="Evaluating Quantized Large Language Models",
            year=2024,
            venue="arXiv",
            arxiv="2402.18158",
        ),
        # two URLs run together in the code link: malformed, so no code
        ListEntry(
            line=19,
            section="Quantization-Aware Training",
            title="LLM-QAT: Data-Free Quantization Aware Training for Large Language Models",
            year=2023,
            venue="arXiv",
            arxiv="2305.17888",
        ),
        # "2024/ins>"
        ListEntry(
            line=23,
            section="Memory-Efficient Fine-Tuning",
            title="GaLore: Memory-Efficient LLM Training by Gradient Low-Rank Projection",
            year=2024,
            venue="arXiv",
            arxiv="2403.03507",
        ),
        # a paper link nested in another: the inner, well-formed one counts
        ListEntry(
            line=26,
            section="Speculative Decoding",
            title="SEED: Accelerating Reasoning Tree Construction via Scheduled Speculative Decoding",
            year=2024,
            venue="arXiv",
            arxiv="2406.18200",
        ),
        # a bare "v" version suffix
        ListEntry(
            line=30,
            section="Fixed Pattern Strategies",
            title="Blockwise Self-Attention for Long Document Understanding",
            year=2020,
            venue="EMNLP",
            arxiv="1911.02972",
            code="https://github.com/xptree/BlockBERT",
        ),
        # ", 2024</ins>" without "<ins>" nor venue
        ListEntry(
            line=33,
            section="MoE-based LLMs",
            title="Lory: Fully Differentiable Mixture-of-Experts for Autoregressive Language Model Pre-training",
            year=2024,
            arxiv="2405.03133",
        ),
        # an arxiv.org/html link with version "v1"
        ListEntry(
            line=35,
            section="Algorithm-Level MoE Optimization",
            title="Scaling Laws for Fine-Grained Mixture of Experts",
            year=2024,
            venue="arXiv",
            arxiv="2402.07871",
        ),
    ]


def test_tiingweii() -> None:
    # the xFormers row links only to its GitHub repository: software, not a paper; the metrics
    # table (no year column) yields nothing
    assert parse("tiingweii") == [
        ListEntry(
            line=12,
            section="Efficient Transformer Architecture",
            title="S2-Attention: Hardware-Aware Context Sharding Among Attention Heads",
            year=2025,
            venue="arXiv",
            arxiv="2407.17678",
        ),
        # a paper on arXiv whose venue column says "Github": kept as given
        ListEntry(
            line=20,
            section="Distributed Training",
            title="Palm: Scaling language modeling with pathways",
            year=2023,
            venue="Github",
            arxiv="2204.02311",
        ),
        ListEntry(
            line=27,
            section="Support Infrastructure",
            title=(
                "Training Large-Vocabulary Neural Language Models by Private Federated Learning "
                "for Resource-Constrained Devices"
            ),
            year=2023,
            venue="ICASSP",
            arxiv="2207.08988",
        ),
    ]


def test_albalak() -> None:
    assert parse("albalak") == [
        # "First Last and First Last", accents kept
        ListEntry(
            line=12,
            section="Language Filtering",
            title="FastText.zip: Compressing text classification models",
            authors=[
                "Armand Joulin",
                "Edouard Grave",
                "Piotr Bojanowski",
                "Matthijs Douze",
                "Hérve Jégou",
                "Tomas Mikolov",
            ],
            year=2016,
            arxiv="1612.03651",
        ),
        # "Last, First and Last, First" turned round
        ListEntry(
            line=13,
            section="Language Filtering",
            title="Learning Word Vectors for 157 Languages",
            authors=["Edouard Grave", "Piotr Bojanowski", "Prakhar Gupta", "Armand Joulin", "Tomas Mikolov"],
            year=2018,
            url="https://aclanthology.org/L18-1550",
        ),
        # "... 4 hidden ...": elided, so no authors
        ListEntry(
            line=14,
            section="Language Filtering",
            title="Unsupervised Cross-lingual Representation Learning at Scale",
            year=2020,
            url="https://aclanthology.org/2020.acl-main.747",
        ),
        ListEntry(
            line=15,
            section="Language Filtering",
            title="A reproduction of Apple's bi-directional LSTM models for language identification in short strings",
            authors=["Mads Toftrup", "Soren Asger Sorensen", "Manuel R. Ciosici", "Ira Assent"],
            year=2021,
            url="https://aclanthology.org/2021.eacl-srw.6",
        ),
        ListEntry(
            line=21,
            section="Data Deduplication",
            title="Space/time trade-offs in hash coding with allowable errors",
            authors=["Burton H. Bloom"],
            year=1970,
            doi="10.1145/362686.362692",
        ),
        # a link target spread over three lines
        ListEntry(
            line=22,
            section="Data Deduplication",
            title="Suffix Arrays: A New Method for On-Line String Searches",
            authors=["Udi Manber", "Gene Myers"],
            year=1993,
            doi="10.1137/0222058",
        ),
        # "(None)" is no link
        ListEntry(
            line=25,
            section="Data Deduplication",
            title="On the resemblance and containment of documents",
            authors=["A.Z. Broder"],
            year=1997,
        ),
        # flattened accents ("D'aniel") are kept as given
        ListEntry(
            line=26,
            section="Data Deduplication",
            title="SemDeDup: Data-efficient learning at web-scale through semantic deduplication",
            authors=["Amro Abbas", "Kushal Tirumala", "D'aniel Simig", "Surya Ganguli", "Ari S Morcos"],
            year=2023,
            arxiv="2303.09540",
        ),
        ListEntry(
            line=31,
            section="Data Mixing",
            title="The Nonstochastic Multiarmed Bandit Problem",
            authors=["Peter Auer", "Nicol`o Cesa-Bianchi", "Yoav Freund", "Robert E. Schapire"],
            year=2002,
        ),
        # "https://arxiv.org/abs/arXiv preprint" is malformed: no identifier at all
        ListEntry(
            line=32,
            section="Data Mixing",
            title="DoGE: Domain Reweighting with Generalization Estimation",
            authors=["Simin Fan", "Matteo Pagliardini", "Martin Jaggi"],
            year=2023,
        ),
        # "... and others": elided
        ListEntry(
            line=38,
            section="Data Selection for In-Context Learning",
            title="In-context Learning with Retrieved Demonstrations for Language Models: A Survey",
            year=2024,
            arxiv="2401.11624",
        ),
    ]


# --- the whole lists --------------------------------------------------------------------------

WHOLE_LISTS = {
    "xnhyacinth": ("Xnhyacinth__Awesome-LLM-Long-Context-Modeling__README.md", 1400),
    "huangowen": ("HuangOwen__Awesome-LLM-Compression__README.md", 750),
    "aiot": ("AIoT-MLSys-Lab__Efficient-LLMs-Survey__README.md", 400),
    "tiingweii": ("tiingweii-shii__Awesome-Resource-Efficient-LLM-Papers__README.md", 150),
    "albalak": ("alon-albalak__data-selection-survey__README.md", 200),
}


def whole_list(file: str) -> str:
    path = CORPUS / file
    if not path.exists():  # said in the summary of every run (pytest -ra), not silently
        pytest.skip(f"{path} is not here: the parsers ran on the excerpts only")
    return path.read_text(encoding="utf-8")


@pytest.mark.parametrize("name", WHOLE_LISTS)
def test_whole_list(name: str) -> None:
    file, at_least = WHOLE_LISTS[name]
    entries = list(FORMATS[name](whole_list(file)))
    assert len(entries) >= at_least
    assert [entry.line for entry in entries] == sorted({entry.line for entry in entries})
    for entry in entries:
        assert entry.title and entry.title == entry.title.strip() and "**" not in entry.title, entry
        assert entry.section and "#" not in entry.section, entry
        assert entry.year is None or 1950 <= entry.year <= 2026, entry  # alon-albalak lists a 1970 paper
        assert entry.arxiv is None or ARXIV_ID.fullmatch(entry.arxiv), entry
        assert entry.doi is None or entry.doi.startswith("10."), entry
        for link in (entry.url, entry.code):
            assert link is None or re.fullmatch(r"https?://\S+", link), entry
    if name == "xnhyacinth":
        assert sum(bool(entry.authors) for entry in entries) >= 0.9 * len(entries)
        assert not any(entry.title.endswith(".") for entry in entries)
    if name in ("huangowen", "aiot", "tiingweii"):
        assert not any(entry.authors for entry in entries)


# --- section maps -------------------------------------------------------------------------------


def taxonomy_tags() -> set[str]:
    document = yaml.safe_load((REPOSITORY / "taxonomy.yaml").read_text(encoding="utf-8"))
    tags, stack = set(), [(node, "") for node in document["nodes"]]
    while stack:
        node, parent = stack.pop()
        tag = parent + node["slug"]
        tags.add(tag)
        stack += [(child, tag + "/") for child in node.get("children", [])]
    return tags


@pytest.mark.parametrize("name", WHOLE_LISTS)
def test_section_map_names_real_headings_and_tags(name: str) -> None:
    file, _ = WHOLE_LISTS[name]
    section_map = read_section_map(SOURCES / (file.removesuffix("__README.md") + ".yaml"))
    assert (section_map.format, section_map.file) == (name, file)
    assert section_map.list_name == file.removesuffix("__README.md").replace("__", "/")
    assert {tag for tags in section_map.sections.values() for tag in tags} <= taxonomy_tags()
    # a heading the parser never yields would silently map nothing
    sections = set((HEADINGS / f"{name}.txt").read_text(encoding="utf-8").splitlines())
    assert set(section_map.sections) <= sections


@pytest.mark.parametrize("name", WHOLE_LISTS)
def test_the_headings_kept_are_those_of_the_whole_list(name: str) -> None:
    """`fixtures/lists/headings/` holds what the parser yields from each whole list (regenerate it
    when a list or parser changes): the section maps are checked against it where the lists are not."""
    file, _ = WHOLE_LISTS[name]
    kept = (HEADINGS / f"{name}.txt").read_text(encoding="utf-8").splitlines()
    assert kept == sorted({entry.section for entry in FORMATS[name](whole_list(file))})


def test_alon_comma_separated_first_last_names():
    text = (
        "# Data Selection for Pretraining\n## Task-specific Fine-tuning\n"
        "- [TSDS: Data Selection for Task-Specific Model Finetuning](https://arxiv.org/abs/2410.11303): 2024"
        "<br/>&emsp;Zifan Liu, Amin Karbasi, Theodoros Rekatsinas<br/>\n"
    )
    (entry,) = FORMATS["albalak"](text)
    assert entry.authors == ["Zifan Liu", "Amin Karbasi", "Theodoros Rekatsinas"]
