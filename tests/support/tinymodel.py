"""Build tiny but real Argos Translate packages (``.argosmodel`` zips) for tests.

Everything is generated offline from a seed in well under a second, and the zip is
byte-identical for identical arguments.  A package holds, under one top-level folder
(``translate-<from>_<to>-<version with _ for .>/``):

* ``metadata.json`` -- what ``argostranslate.package.Package`` reads.
* ``sentencepiece.model`` -- a SentencePiece BPE model trained in memory on a generated
  corpus of Latin, Cyrillic, Arabic and CJK letters, digits and punctuation.  It uses
  ``character_coverage=1.0`` without byte fallback: characters never seen in the corpus
  (emoji, rare CJK, ...) come out as SentencePiece's ``<unk>`` and CTranslate2 maps them
  to its ``<unk>`` token, so any text tokenizes and translates.
* ``model/`` -- a CTranslate2 Transformer (int8) with seeded random weights.  Source and
  target share the vocabulary ``<blank> <unk> <s> </s>`` + every SentencePiece piece, so
  CTranslate2 token id == SentencePiece id + 1.
* ``minisbd/<from>.onnx`` -- a rule-based ONNX sentence splitter for minisbd's ``SBDetect``.

Decoding length: a random decoder would practically never emit ``</s>`` and would run to
``max_decoding_length`` (256 by default).  Here the decoder is rigged with a "clock": two
residual-stream dimensions carry ``+/-c*t`` from a custom decoder position table and no
sublayer writes to them, and the ``</s>`` row of the output projection reads only those
dimensions, so the ``</s>`` logit grows linearly with the decoding step while every other
token's logit stays random.  ``</s>`` therefore wins after about ``OUTPUT_TOKENS``
tokens (7 to 9 at the default size, up to 11 for d_model=512; the exact count depends
on input and seed) for every non-empty input, with greedy or beam search.  Callers need
nothing special: argostranslate's default call (no ``max_decoding_length``, so
CTranslate2's default 256) yields a short non-empty string per sentence, the same for
the same package and input.  Limits: a ``max_decoding_length`` below ``OUTPUT_TOKENS``
cuts the output short (harmless), and a ``min_decoding_length`` of
``MAX_DECODER_POSITIONS`` or more makes CTranslate2 raise "No position encodings are
defined for positions >= 256".  ``<blank>``, ``<unk>`` and ``<s>`` are never generated;
an empty source gives an empty translation.
"""

from __future__ import annotations

import io
import json
import os
import tempfile
import zipfile
from collections.abc import Iterable, Iterator
from pathlib import Path

import numpy as np
import onnx
import sentencepiece as spm
from ctranslate2.specs import common_spec, model_spec, transformer_spec
from onnx import TensorProto, helper, numpy_helper

# Bump whenever the bytes a build produces change, so cached_package() stops reusing
# packages built by an older version of this module.
FORMAT_VERSION = 1

ARGOS_VERSION = "1.9"

# Each sentence translates to about this many tokens (7-9 at the default size), see the
# module docstring.
OUTPUT_TOKENS = 8

# Rows of the explicit decoder position table; CTranslate2 cannot decode past it.
MAX_DECODER_POSITIONS = 256

# Fixed zip timestamp (the earliest a zip can hold) so equal inputs give equal bytes.
_ZIP_DATE_TIME = (1980, 1, 1, 0, 0, 0)

LANGUAGE_NAMES: dict[str, str] = {
    "ar": "Arabic",
    "de": "German",
    "en": "English",
    "es": "Spanish",
    "fr": "French",
    "it": "Italian",
    "ja": "Japanese",
    "ko": "Korean",
    "nl": "Dutch",
    "pl": "Polish",
    "pt": "Portuguese",
    "ru": "Russian",
    "tr": "Turkish",
    "uk": "Ukrainian",
    "zh": "Chinese",
    "zt": "Chinese (traditional)",
}

# --- SentencePiece corpus -------------------------------------------------------------

_LATIN = "abcdefghijklmnopqrstuvwxyz"
_LATIN_EXTRA = "éèêëàâçîïôûùüöäßñ"
_CYRILLIC = "абвгдеёжзийклмнопрстуфхцчшщъыьэюя"
_CYRILLIC_UPPER = "АБВГДЕИКЛМНОПРСТУФЧЭЯ"
_ARABIC = "ابتثجحخدذرزسشصضطظعغفقكلمنهويءأإةى"
_CJK = "的一是不了人我在有他这中大来上国个到说们为子和你地出道也时年新闻世界日本语文天会"
_DIGITS = "0123456789"
_PUNCTUATION = ".,;:!?'\"()-–—/%&+«»。，！？、「」：；"
_ALPHABET = "".join(
    (_LATIN, _LATIN.upper(), _LATIN_EXTRA, _CYRILLIC, _CYRILLIC_UPPER, _ARABIC, _CJK, _DIGITS, _PUNCTUATION)
)

# Real words so frequent text gets multi-character pieces, not only single letters.
_WORD_LINES = (
    "the of and to in is a for on that with this news world hello test today city report",
    "people new year first one second third time day said will has have was are from by",
    "le la les de des et un une est dans pour monde nouvelles bonjour",
    "el los las y en es por mundo noticias hola der die das und ist ein nicht mit welt",
    "новости мир привет это и в не на что год сегодня",
    "أخبار العالم مرحبا في من على هذا",
    "新闻 世界 你好 中国 日本 今天 我们 时间",
)
_WORDS = [word for line in _WORD_LINES for word in line.split()]

_SCRIPTS = (_LATIN, _LATIN, _LATIN + _LATIN_EXTRA, _CYRILLIC, _ARABIC, _CJK)

# SentencePiece needs one piece per distinct character (plus "▁") and 3 specials.
MIN_VOCAB_SIZE = len(set(_ALPHABET + "".join(_WORDS) + "▁")) + 3


def _corpus(rng: np.random.Generator, sentences: int = 600) -> Iterator[str]:
    """Yield the seeded training corpus for the SentencePiece model."""
    # The alphabet, spaced out, guarantees every character we want is in the model.
    yield " ".join(_ALPHABET)
    yield " ".join(_WORDS)
    for _ in range(sentences):
        words = []
        for _ in range(int(rng.integers(3, 12))):
            if rng.random() < 0.5:
                words.append(_WORDS[int(rng.integers(len(_WORDS)))])
            elif rng.random() < 0.15:
                words.append(str(int(rng.integers(0, 10_000))))
            else:
                script = _SCRIPTS[int(rng.integers(len(_SCRIPTS)))]
                length = int(rng.integers(1, 8))
                words.append("".join(script[int(i)] for i in rng.integers(len(script), size=length)))
        sentence = " ".join(words)
        if sentence[0] in _LATIN and rng.random() < 0.3:
            # Only Latin: capitalizing other scripts would add seed-dependent characters.
            sentence = sentence[0].upper() + sentence[1:]
        yield sentence + _PUNCTUATION[int(rng.integers(len(_PUNCTUATION)))]


def _train_sentencepiece(rng: np.random.Generator, vocab_size: int) -> bytes:
    """Train a SentencePiece BPE model in memory and return the serialized model."""
    if vocab_size < MIN_VOCAB_SIZE:
        raise ValueError(f"vocab_size must be at least {MIN_VOCAB_SIZE} to hold the alphabet")
    model = io.BytesIO()
    spm.SentencePieceTrainer.train(
        sentence_iterator=_corpus(rng),
        model_writer=model,
        # BPE trains in milliseconds; unigram takes ~0.2 s for the same corpus.
        model_type="bpe",
        vocab_size=vocab_size,
        character_coverage=1.0,
        byte_fallback=False,
        # "identity" keeps the model ~3 KB; the default nmt_nfkc rules add ~240 KB.
        normalization_rule_name="identity",
        unk_id=0,
        bos_id=1,
        eos_id=2,
        pad_id=-1,
        hard_vocab_limit=False,
        num_threads=1,
        minloglevel=2,
    )
    return model.getvalue()


def _ct2_vocabulary(sp_model: bytes) -> list[str]:
    """Return the CTranslate2 vocabulary for a SentencePiece model (ids shifted by one)."""
    sp = spm.SentencePieceProcessor(model_proto=sp_model)
    # The SentencePiece specials are <unk>=0, <s>=1, </s>=2; CTranslate2 (OpenNMT layout)
    # wants <blank> <unk> <s> </s> first, so sp id i becomes ct2 id i + 1.
    assert [sp.id_to_piece(i) for i in range(3)] == ["<unk>", "<s>", "</s>"]
    pieces = [sp.id_to_piece(i) for i in range(3, sp.get_piece_size())]
    return ["<blank>", "<unk>", "<s>", "</s>", *pieces]


# --- CTranslate2 model ----------------------------------------------------------------


def _iter_layer_specs(
    spec: model_spec.LayerSpec, path: str = ""
) -> Iterator[tuple[str, model_spec.LayerSpec]]:
    """Yield (path, layer) for every LayerSpec below spec, in declaration order."""
    for name, value in vars(spec).items():
        if name.startswith("_"):
            continue
        if isinstance(value, list):
            items = [(f"{name}_{i}", item) for i, item in enumerate(value)]
        else:
            items = [(name, value)]
        for item_name, item in items:
            if isinstance(item, model_spec.LayerSpec):
                item_path = f"{path}/{item_name}" if path else item_name
                yield item_path, item
                yield from _iter_layer_specs(item, item_path)


def _linear_shape(path: str, d_model: int, ffn: int, vocab: int) -> tuple[int, int]:
    """Return (out, in) of the linear layer at path."""
    parent, _, leaf = path.rpartition("/")
    block = parent.rpartition("/")[2]
    shapes = {
        ("self_attention", "linear_0"): (3 * d_model, d_model),  # fused q, k, v
        ("self_attention", "linear_1"): (d_model, d_model),
        ("attention", "linear_0"): (d_model, d_model),  # query
        ("attention", "linear_1"): (2 * d_model, d_model),  # fused k, v of the memory
        ("attention", "linear_2"): (d_model, d_model),
        ("ffn", "linear_0"): (ffn, d_model),
        ("ffn", "linear_1"): (d_model, ffn),
    }
    if path == "decoder/projection":
        return vocab, d_model
    try:
        return shapes[(block, leaf)]
    except KeyError:
        raise ValueError(f"unexpected linear layer {path!r} in the CTranslate2 spec") from None


def _sinusoids(positions: int, depth: int) -> np.ndarray:
    """Return the usual sin/cos position table, [positions, depth]."""
    half = depth // 2
    inv = np.exp(-np.log(10_000.0) * np.arange(half) / max(half - 1, 1))
    angles = np.arange(positions)[:, None] * inv[None, :]
    return np.concatenate([np.sin(angles), np.cos(angles)], axis=1).astype(np.float32)


def _build_ct2_spec(
    vocabulary: list[str],
    rng: np.random.Generator,
    layers: int,
    d_model: int,
    heads: int,
    ffn: int,
    output_tokens: int = OUTPUT_TOKENS,
) -> transformer_spec.TransformerSpec:
    """Return a validated TransformerSpec with seeded random weights and the </s> clock."""
    spec = transformer_spec.TransformerSpec.from_config((layers, layers), heads, pre_norm=True)
    vocab = len(vocabulary)

    def normal(shape: tuple[int, ...], std: float) -> np.ndarray:
        return rng.normal(0.0, std, size=shape).astype(np.float32)

    # Fill every weight the spec declares, in declaration order (deterministic).
    for path, layer in _iter_layer_specs(spec):
        if isinstance(layer, common_spec.EmbeddingsSpec):
            # CTranslate2 multiplies embeddings by sqrt(d_model): entries end up ~N(0, 1).
            layer.weight = normal((vocab, d_model), d_model**-0.5)
        elif isinstance(layer, common_spec.LayerNormSpec):
            layer.gamma = 1.0 + normal((d_model,), 0.05)
            layer.beta = normal((d_model,), 0.02)
        elif isinstance(layer, common_spec.LinearSpec):
            out_dim, in_dim = _linear_shape(path, d_model, ffn, vocab)
            layer.weight = normal((out_dim, in_dim), in_dim**-0.5)
            layer.bias = normal((out_dim,), 0.02)
        elif isinstance(layer, transformer_spec.PositionEncoderSpec) and path.startswith("decoder"):
            # Explicit only for the decoder (it carries the clock); the encoder keeps
            # CTranslate2's built-in sinusoids.
            layer.encodings = _sinusoids(MAX_DECODER_POSITIONS, d_model)

    _install_stop_clock(spec, vocabulary, d_model, output_tokens)
    spec.register_source_vocabulary(vocabulary)
    spec.register_target_vocabulary(vocabulary)
    spec.validate()
    return spec


def _install_stop_clock(
    spec: transformer_spec.TransformerSpec, vocabulary: list[str], d_model: int, output_tokens: int
) -> None:
    """Rig the decoder so </s> wins after about `output_tokens` steps (module docstring)."""
    decoder = spec.decoder
    # Four residual dimensions reserved: clock up/down (+-c*t) and a constant pair (+-big)
    # that dominates the final layer norm's scale, so the normalized clock is ~linear in t.
    up, down, big_up, big_down = special = [d_model - 4, d_model - 3, d_model - 2, d_model - 1]
    # big grows with sqrt(d) so sigma ~= big*sqrt(2/d) stays ~7 for any d_model, which keeps
    # the spread of the random logits (and so the output length) independent of size.
    clock_rate, big = 0.4, 5.0 * np.sqrt(d_model)

    decoder.embeddings.weight[:, special] = 0.0
    encodings = decoder.position_encodings.encodings
    steps = np.arange(MAX_DECODER_POSITIONS, dtype=np.float32)
    encodings[:, special] = 0.0
    encodings[:, up] = clock_rate * steps
    encodings[:, down] = -clock_rate * steps

    # No sublayer may write into the reserved dimensions, or the clock would get noisy.
    for layer in decoder.layer:
        for out in (layer.self_attention.linear[1], layer.attention.linear[2], layer.ffn.linear_1):
            out.weight[special, :] = 0.0
            out.bias[special] = 0.0
    last_ffn = decoder.layer[-1].ffn.linear_1
    # Added after the last sublayer's own layer norm, so it only shapes the final one.
    last_ffn.bias[big_up], last_ffn.bias[big_down] = big, -big
    decoder.layer_norm.gamma[special] = 1.0
    decoder.layer_norm.beta[special] = 0.0

    # With sigma ~= big*sqrt(2/d), (norm[up] - norm[down]) ~= clock_rate*t*sqrt(2d)/big.
    slope = 3.0  # logit gained per step
    projection = decoder.projection
    eos = vocabulary.index("</s>")
    projection.weight[:, special] = 0.0
    projection.weight[eos, :] = 0.0
    gain = slope * big / (clock_rate * np.sqrt(2.0 * d_model))
    projection.weight[eos, up], projection.weight[eos, down] = gain, -gain
    # The </s> logit reaches 0 two steps before `output_tokens` and needs ~2 more steps
    # to overtake the largest random logit: a lower bias is a later stop (a longer output).
    projection.bias[eos] = -slope * (output_tokens - 2)
    # Other tokens: random logits with a spread of a few units around 0.  The normalized
    # non-reserved dimensions are small (the constant pair dominates sigma), so scale up.
    projection.weight[:, : d_model - 4] *= 4.0
    # Never generate <blank>, <unk> or <s>; biases stay float32 under int8 quantization.
    for token in ("<blank>", "<unk>", "<s>"):
        projection.bias[vocabulary.index(token)] = -1e4


# --- minisbd sentence splitter ----------------------------------------------------------

# Unit ids the ONNX graph tests for; order matters (ranges below).  Every other
# character maps to <UNK> (id 1), which the rules treat as an ordinary letter.
_SBD_UNITS = ["<PAD>", "<UNK>", " ", ".", "!", "?", "。", "！", "？"]
_PAD, _SPACE = 0, 2
_ASCII_TERMINALS = (3, 5)  # inclusive id range: . ! ?  (end a sentence before a space/end)
_WIDE_TERMINALS = (6, 8)  # inclusive id range: 。！？ (always end a sentence: CJK has no spaces)

# Classes minisbd expects per character.
_INSIDE, _TOKEN_END, _SENTENCE_END, _NUM_CLASSES = 0, 1, 2, 5


def _build_sbd_onnx(lang_code: str) -> bytes:
    """Return a rule-based ONNX sentence splitter in minisbd's format, as bytes."""
    used: set[int] = set()

    def num(value: int) -> str:
        # Integer constants become initializers named c<value>; only the used ones are
        # emitted, since onnxruntime warns about unused initializers on every load.
        used.add(value)
        return f"c{value}"

    def in_range(out: str, units: str, bounds: tuple[int, int]) -> list[onnx.NodeProto]:
        low, high = bounds
        return [
            helper.make_node("Greater", [units, num(low - 1)], [f"{out}_ge"]),
            helper.make_node("Less", [units, num(high + 1)], [f"{out}_le"]),
            helper.make_node("And", [f"{out}_ge", f"{out}_le"], [out]),
        ]

    nodes = [
        # Look-ahead: next[t] = units[t + 1], and PAD past the end.
        helper.make_node("Pad", ["units", "pad_after", num(_PAD)], ["padded"], mode="constant"),
        helper.make_node("Slice", ["padded", "slice_start", "slice_end", "time_axis"], ["next"]),
        helper.make_node("Equal", ["units", num(_SPACE)], ["is_space"]),
        helper.make_node("Equal", ["next", num(_SPACE)], ["next_space"]),
        helper.make_node("Equal", ["next", num(_PAD)], ["next_pad"]),
        helper.make_node("Or", ["next_space", "next_pad"], ["next_gap"]),
        *in_range("ascii_term", "units", _ASCII_TERMINALS),
        *in_range("wide_term", "units", _WIDE_TERMINALS),
        *in_range("next_term", "next", (_ASCII_TERMINALS[0], _WIDE_TERMINALS[1])),
        helper.make_node("And", ["ascii_term", "next_gap"], ["ascii_end"]),
        helper.make_node("Or", ["ascii_end", "wide_term"], ["sentence_end"]),
        # A space, the character before a space/end, and the one before punctuation end tokens.
        helper.make_node("Or", ["is_space", "next_gap"], ["gap_end"]),
        helper.make_node("Or", ["gap_end", "next_term"], ["token_end"]),
        helper.make_node("Where", ["token_end", num(_TOKEN_END), num(_INSIDE)], ["cls_token"]),
        helper.make_node("Where", ["sentence_end", num(_SENTENCE_END), "cls_token"], ["cls"]),
        # One-hot logits [batch, time, 5]; minisbd takes the argmax.
        helper.make_node("Unsqueeze", ["cls", "last_axis"], ["cls3"]),
        helper.make_node("Equal", ["cls3", "classes"], ["onehot"]),
        helper.make_node("Cast", ["onehot"], ["logits"], to=TensorProto.FLOAT),
    ]

    def const(name: str, value: object) -> onnx.TensorProto:
        return numpy_helper.from_array(np.array(value, dtype=np.int64), name)

    initializers = [const(f"c{value}", value) for value in sorted(used)]
    initializers += [
        const("pad_after", [0, 0, 0, 1]),  # one PAD column after the last time step
        const("slice_start", [1]),
        const("slice_end", [np.iinfo(np.int64).max]),
        const("time_axis", [1]),
        const("last_axis", [-1]),
        const("classes", list(range(_NUM_CLASSES))),
    ]
    graph = helper.make_graph(
        nodes,
        "tiny_rule_sbd",
        inputs=[
            helper.make_tensor_value_info("units", TensorProto.INT64, ["batch", "time"]),
            # Required by minisbd's onnx_predict; the rules only need the units.
            helper.make_tensor_value_info("features", TensorProto.FLOAT, ["batch", "time", 1]),
        ],
        outputs=[helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["batch", "time", _NUM_CLASSES])],
        initializer=initializers,
    )
    # Opset 13 / IR 8 load in any onnxruntime from 1.10 on.
    model = helper.make_model(
        graph, opset_imports=[helper.make_opsetid("", 13)], ir_version=8, producer_name="syndicator-tinymodel"
    )
    vocab = {
        "lang": lang_code,
        "idx": 0,
        "cutoff": 0,
        "lower": False,
        "_unit2id": {unit: i for i, unit in enumerate(_SBD_UNITS)},
        "_id2unit": _SBD_UNITS,
    }
    config = {
        "feat_funcs": ["space_before"],  # one feature column, matching the declared input
        "max_seqlen": 1000,
        "batch_size": 8,
        "skip_newline": False,
        "no_ssplit": False,
        "use_dictionary": False,
        "num_dict_feat": 0,
    }
    helper.set_model_props(
        model,
        {
            "lang_code": lang_code,
            "config": json.dumps(config, sort_keys=True),
            "vocab": json.dumps(vocab, sort_keys=True),
            "lexicon": "null",
        },
    )
    onnx.checker.check_model(model)
    return model.SerializeToString()


# --- Packaging --------------------------------------------------------------------------


def package_dir_name(from_code: str, to_code: str, version: str = "1.0") -> str:
    """Return the top-level folder name inside the zip (also the installed directory name)."""
    return f"translate-{from_code}_{to_code}-{version.replace('.', '_')}"


def package_file_name(from_code: str, to_code: str, version: str = "1.0") -> str:
    """Return the .argosmodel file name build_package() writes."""
    return f"translate-{from_code}_{to_code}-{version}.argosmodel"


def _metadata(from_code: str, to_code: str, version: str) -> bytes:
    """Return metadata.json bytes."""
    metadata = {
        "package_version": version,
        "argos_version": ARGOS_VERSION,
        "from_code": from_code,
        "from_name": LANGUAGE_NAMES.get(from_code, from_code),
        "to_code": to_code,
        "to_name": LANGUAGE_NAMES.get(to_code, to_code),
        "type": "translate",
        "links": [],
    }
    return (json.dumps(metadata, indent=2, sort_keys=True) + "\n").encode()


def _write_zip(zip_path: Path, root: str, files: dict[str, bytes]) -> None:
    """Write files under root/ into a deterministic zip, atomically."""
    dirs = {root} | {f"{root}/{rel.rpartition('/')[0]}" for rel in files if "/" in rel}
    entries = [(f"{d}/", None) for d in dirs] + [(f"{root}/{rel}", data) for rel, data in files.items()]
    # Unique temp name in the same directory, then os.replace: concurrent builders
    # (pytest-xdist workers) never see a half-written zip.
    fd, tmp_name = tempfile.mkstemp(prefix=".tmp-", suffix=".argosmodel", dir=zip_path.parent)
    os.close(fd)
    try:
        with zipfile.ZipFile(tmp_name, "w") as archive:
            for name, data in sorted(entries, key=lambda entry: entry[0]):
                info = zipfile.ZipInfo(name, date_time=_ZIP_DATE_TIME)
                info.create_system = 3  # Unix, so external_attr is honoured everywhere
                if data is None:
                    info.external_attr = (0o40755 << 16) | 0x10
                    archive.writestr(info, b"")
                else:
                    info.external_attr = 0o100644 << 16
                    info.compress_type = zipfile.ZIP_DEFLATED
                    archive.writestr(info, data, compresslevel=6)
        os.replace(tmp_name, zip_path)
    except BaseException:
        Path(tmp_name).unlink(missing_ok=True)
        raise


def build_package(
    dest_dir: Path,
    from_code: str,
    to_code: str,
    *,
    seed: int = 0,
    version: str = "1.0",
    layers: int = 2,
    d_model: int = 64,
    heads: int = 4,
    ffn: int = 128,
    vocab_size: int = 300,
    output_tokens: int = OUTPUT_TOKENS,
) -> Path:
    """Build <dest_dir>/translate-<from>_<to>-<version>.argosmodel and return its path.

    `output_tokens`: about how many tokens the decoder writes per sentence before </s> (module docstring);
    the benchmarks raise it to get a model that writes sentences as long as a real model's.
    """
    if d_model % heads or d_model < 16 or d_model % 2:
        raise ValueError("d_model must be even, at least 16 and divisible by heads")
    dest_dir = Path(dest_dir)
    dest_dir.mkdir(parents=True, exist_ok=True)
    # Independent streams, so e.g. a corpus change does not reshuffle the weights.
    corpus_rng, weights_rng = (np.random.default_rng(s) for s in np.random.SeedSequence(seed).spawn(2))

    sp_model = _train_sentencepiece(corpus_rng, vocab_size)
    vocabulary = _ct2_vocabulary(sp_model)
    spec = _build_ct2_spec(vocabulary, weights_rng, layers, d_model, heads, ffn, output_tokens)
    spec.optimize(quantization="int8")

    files = {
        "metadata.json": _metadata(from_code, to_code, version),
        "sentencepiece.model": sp_model,
        f"minisbd/{from_code}.onnx": _build_sbd_onnx(from_code),
    }
    with tempfile.TemporaryDirectory(prefix="tinymodel-") as tmp:
        spec.save(tmp)
        for path in sorted(Path(tmp).iterdir()):
            files[f"model/{path.name}"] = path.read_bytes()

    zip_path = dest_dir / package_file_name(from_code, to_code, version)
    _write_zip(zip_path, package_dir_name(from_code, to_code, version), files)
    return zip_path


def build_packages(dest_dir: Path, pairs: Iterable[tuple[str, str]], seed: int = 0) -> list[Path]:
    """Build one package per (from_code, to_code) pair into dest_dir."""
    return [build_package(dest_dir, from_code, to_code, seed=seed) for from_code, to_code in pairs]


def cached_package(
    from_code: str, to_code: str, cache_dir: Path, *, seed: int = 0, version: str = "1.0"
) -> Path:
    """Return a package for (pair, seed, version) from cache_dir, building it only if missing."""
    # One folder per key: build_package names files by pair and version only.
    key_dir = Path(cache_dir) / f"v{FORMAT_VERSION}-{from_code}_{to_code}-{version}-seed{seed}"
    path = key_dir / package_file_name(from_code, to_code, version)
    if path.is_file():
        return path
    return build_package(key_dir, from_code, to_code, seed=seed, version=version)


def extract_package(zip_path: Path, dest_dir: Path) -> Path:
    """Extract a package zip into dest_dir and return the package directory."""
    with zipfile.ZipFile(zip_path) as archive:
        roots = {name.split("/", 1)[0] for name in archive.namelist()}
        if len(roots) != 1:
            raise ValueError(f"{zip_path} must hold exactly one top-level folder, found {sorted(roots)}")
        archive.extractall(dest_dir)
    return Path(dest_dir) / roots.pop()
