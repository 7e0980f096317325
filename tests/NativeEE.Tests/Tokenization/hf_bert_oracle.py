#!/usr/bin/env python3
"""Test oracle: Hugging Face BertTokenizer's rules (transformers, the Python "slow" tokenizer), re-implemented
from its documented algorithm with Python's own unicodedata — independent of FastBertTokenizer and of the C# code.

  python3 hf_bert_oracle.py verify   # checks itself against ../shared/.../reference/token_ids.tsv (all rows)
  python3 hf_bert_oracle.py odd      # fills the expected-ids column of OddStrings.tsv

Rules: special tokens written in the text are split out first (case-sensitive, leftmost-longest); then
_clean_text (drop NUL, U+FFFD and category C* except \\t\\n\\r; whitespace → space), spaces around CJK
ideographs, NFC, whitespace split, lower-case + accent strip (NFD, drop Mn) per do_lower_case/strip_accents,
punctuation split; WordPiece greedy longest match with '##' continuations, [UNK] for a word that cannot be
split or is longer than 100 characters; truncate to max_len − 2 pieces, then [CLS] … [SEP].
"""
import os, sys, unicodedata

HERE = os.path.dirname(os.path.abspath(__file__))
SHARED = os.environ.get("NATIVEEE_SHARED") or os.path.normpath(os.path.join(HERE, "..", "..", "..", "..", "shared"))
MODEL = os.path.join(SHARED, "models", "minilm-sst2-ee")


def load_vocab(path):
    vocab = {}
    with open(path, encoding="utf-8") as f:
        for i, line in enumerate(f):
            vocab[line.rstrip("\n")] = i
    return vocab


def is_whitespace(ch):
    return ch in " \t\n\r" or unicodedata.category(ch) == "Zs"


def is_control(ch):
    return ch not in "\t\n\r" and unicodedata.category(ch).startswith("C")


def is_punctuation(ch):
    cp = ord(ch)
    if 33 <= cp <= 47 or 58 <= cp <= 64 or 91 <= cp <= 96 or 123 <= cp <= 126:
        return True
    return unicodedata.category(ch).startswith("P")


def is_cjk(cp):
    return (0x4E00 <= cp <= 0x9FFF or 0x3400 <= cp <= 0x4DBF or 0x20000 <= cp <= 0x2A6DF or 0x2A700 <= cp <= 0x2B73F
            or 0x2B740 <= cp <= 0x2B81F or 0x2B820 <= cp <= 0x2CEAF or 0xF900 <= cp <= 0xFAFF or 0x2F800 <= cp <= 0x2FA1F)


def strip_accents(text):
    return "".join(c for c in unicodedata.normalize("NFD", text) if unicodedata.category(c) != "Mn")


def split_punctuation(token):
    out, current = [], ""
    for ch in token:
        if is_punctuation(ch):
            if current:
                out.append(current)
            out.append(ch)
            current = ""
        else:
            current += ch
    if current:
        out.append(current)
    return out


class Oracle:
    def __init__(self, vocab, lower=True, strip=None, specials=("[UNK]", "[SEP]", "[PAD]", "[CLS]", "[MASK]")):
        self.vocab, self.lower, self.strip = vocab, lower, strip
        self.specials = sorted((s for s in specials if s in vocab), key=len, reverse=True)

    def basic_tokenize(self, text):
        text = "".join(" " if is_whitespace(c) else c for c in text
                       if not (ord(c) == 0 or ord(c) == 0xFFFD or is_control(c)))
        text = "".join(f" {c} " if is_cjk(ord(c)) else c for c in text)
        text = unicodedata.normalize("NFC", text)
        words = []
        for token in text.split():
            if self.lower:
                token = token.lower()
                if self.strip is not False:
                    token = strip_accents(token)
            elif self.strip:
                token = strip_accents(token)
            words.extend(split_punctuation(token))
        return " ".join(words).split()

    def wordpiece(self, word):
        if len(word) > 100:
            return [self.vocab["[UNK]"]]
        pieces, start = [], 0
        while start < len(word):
            end, found = len(word), None
            while start < end:
                sub = word[start:end] if start == 0 else "##" + word[start:end]
                if sub in self.vocab:
                    found = self.vocab[sub]
                    break
                end -= 1
            if found is None:
                return [self.vocab["[UNK]"]]
            pieces.append(found)
            start = end
        return pieces

    def encode(self, text, max_len=128):
        ids, i, plain = [], 0, ""
        while i < len(text):
            special = next((s for s in self.specials if text.startswith(s, i)), None)
            if special is None:
                plain += text[i]
                i += 1
                continue
            ids += self.encode_plain(plain)
            ids.append(self.vocab[special])
            plain, i = "", i + len(special)
        ids += self.encode_plain(plain)
        return [self.vocab["[CLS]"]] + ids[: max_len - 2] + [self.vocab["[SEP]"]]

    def encode_plain(self, text):
        return [p for w in self.basic_tokenize(text) for p in self.wordpiece(w)]


def unescape(s):
    """Our TSV escape: \\\\, \\t, \\n, \\r and \\uXXXX (one UTF-16 unit, so lone surrogates can be written)."""
    units, i = [], 0
    while i < len(s):
        if s[i] == "\\":
            c = s[i + 1]
            if c == "u":
                units.append(int(s[i + 2:i + 6], 16))
                i += 6
                continue
            units.append({"\\": 0x5C, "t": 9, "n": 10, "r": 13}[c])
            i += 2
            continue
        units.extend(int.from_bytes(s[i].encode("utf-16-le")[k:k + 2], "little") for k in range(0, len(s[i].encode("utf-16-le")), 2))
        i += 1
    raw = b"".join(u.to_bytes(2, "little") for u in units)
    return raw.decode("utf-16-le", "surrogatepass")


def verify(oracle):
    expected = {}
    with open(os.path.join(MODEL, "reference", "token_ids.tsv"), encoding="utf-8") as f:
        next(f)
        for line in f:
            file, row, ids = line.rstrip("\n").split("\t")
            expected[(file, int(row))] = [int(x) for x in ids.split()]
    same = 0
    for name in ("test.tsv", "dev.tsv"):
        with open(os.path.join(SHARED, "data", "sst2", name), encoding="utf-8") as f:
            next(f)
            for row, line in enumerate(f):
                sentence = line.rstrip("\n").rsplit("\t", 1)[0]
                got = oracle.encode(sentence)
                if got == expected[(name, row)]:
                    same += 1
                else:
                    print(f"DIFF {name} {row}: {got} vs {expected[(name, row)]}")
    print(f"{same} of {len(expected)} rows equal")
    return same == len(expected)


def fill_odd(oracle):
    path = os.path.join(HERE, "OddStrings.tsv")
    with open(path, encoding="utf-8") as f:
        lines = f.read().split("\n")
    out = [lines[0]]
    for line in lines[1:]:
        if not line:
            continue
        name, max_len, text = line.split("\t")[:3]
        ids = oracle.encode(unescape(text), int(max_len))
        out.append("\t".join([name, max_len, text, " ".join(map(str, ids))]))
    with open(path, "w", encoding="utf-8", newline="\n") as f:
        f.write("\n".join(out) + "\n")
    print(f"wrote {len(out) - 1} rows to {path}")


if __name__ == "__main__":
    oracle = Oracle(load_vocab(os.path.join(MODEL, "vocab.txt")))
    if sys.argv[1:] == ["verify"]:
        sys.exit(0 if verify(oracle) else 1)
    elif sys.argv[1:] == ["odd"]:
        fill_odd(oracle)
    else:
        sys.exit(__doc__)
