# SPDX-License-Identifier: GPL-2.0-or-later
"""A corpus of hand-shaped and generated messages for the MIME tests:
well-formed mail and the broken mail servers meet (nested multiparts,
message/rfc822 inside multiparts, digests, RFC 2231 parameters, encoded
words, missing, wrong and prefix-sharing boundaries, 8-bit headers, NULs,
bare CRs, very long lines, no body, no header, deep nesting), each in
variations (LF or CRLF line ends, no final newline).

corpus() returns [(name, bytes)], deterministic; mime_corpus.py DIR writes
the files to DIR (for running mime_dump by hand)."""

import os
import random
import sys

ADDRESSES = [
    "user@example.com",
    "Joe Q. Public <john.q.public@example.com>",
    "\"Doe, Jane\" <jane@example.org>",
    "\"quote \\\" inside\" <q@example.org>",
    "\"\\\\\\\"\\\\\\\"\\\\\\\"\" <many@example.org>",
    "jdoe@machine.example (John Doe)",
    "Pete(A nice \\) chap) <pete(his account)@silly.test(his host)>",
    "A Group:Ed Jones <c@a.test>,joe@where.test,John <jdoe@one.test>;",
    "Undisclosed recipients:;",
    "<@route1.example,@route2.example:user@example.net>",
    "Mary Smith <@machine.tld:mary@example.net>",
    "user",
    "two words",
    "<>",
    "Name <>",
    "broken@",
    "@nodomain.example",
    "\"unterminated <a@b.example>",
    "a@b.example, , c@d.example",
    "a@b.example,",
    "=?UTF-8?B?SsO8cmdlbg==?= <juergen@example.de>",
    "=?ISO-8859-1?Q?Andr=E9?= Pirard <PIRARD@vm1.ulg.ac.be>",
    "J\xc3\xbcrgen M\xc3\xbcller <jm@example.de>",
    "John    Tab\tBed <tb@example.com>",
    "\"  spaces  \" <sp@example.com>",
    "a.b . c@d . example",
    "x@[127.0.0.1]",
    "Group One: a@b.c; Group Two: d@e.f;",
    "Empty:; x@y.z",
    "<a@b.c> trailing garbage",
    "first.last@sub.example.com (comment (nested) here)",
    "\"\" <empty-name@example.com>",
    "name with . dot <d@example.com>",
    "Nul\x00Name <nul@example.com>",
    "(only a comment)",
    "a@b.c (unclosed comment",
    ";;;",
    "\"folded\r\n name\" <f@example.com>",
]

SUBJECTS = [
    "Hello",
    "",
    "   ",
    "  leading and trailing  ",
    "tabs\tand\t\tspaces   many",
    "folded\n continuation line",
    "folded\n\ttab continuation",
    "quotes \" and \\ backslash",
    "\"\"\"\"\"\" many quotes",
    "8-bit \xc3\xa9t\xc3\xa9",
    "=?UTF-8?Q?encoded_word?= and text",
    "=?utf-8?b?w6l0w6k=?= =?utf-8?b?w6l0w6k=?=",
    "x" * 1200,
    "NUL\x00after",
    "CR\rinside",
    "trailing tab\t",
]

CONTENT_TYPES = [
    None,
    "text/plain",
    "text/plain; charset=utf-8",
    "TEXT/HTML; CHARSET=\"ISO-8859-1\"",
    "text",
    "text/",
    "/plain",
    "text/plain; charset",
    "text/plain;;charset=x",
    "text/plain; charset=\"unterminated",
    "text/plain; name==?utf-8?b?w6k=?=",
    "text/plain; format=flowed; delsp=yes; charset=us-ascii",
    "text/plain (a comment); charset=(c)utf-8",
    "application/octet-stream; name=\"file.bin\"",
    "application/octet-stream; name*=utf-8''%C3%A9t%C3%A9.txt",
    "application/x-stuff; title*0*=us-ascii'en'This%20is%20; "
    "title*1*=%2A%2A%2Afun%2A%2A%2A; title*2=\"isn't it!\"",
    "application/x-stuff; name*0=\"a\"; name*2=\"c\"",
    "application/x-stuff; NAME*0=\"a\"; name*1=\"b\"",
    "application/x-stuff; name*1=\"b\"; name*0=\"a\"",
    "application/x-stuff; p=\"quo\\\"ted\"; q=\"\\\\\\\\\\\\\\\\\\\\\"",
    "image/png; name=\"8bit-\xc3\xa9.png\"",
    "message/delivery-status",
    "application/pdf; name=\"folded\r\n\tname.pdf\"",
    "text/plain; charset=us-ascii; charset=utf-8",
    "Text/Plain; Charset=UTF-8",
    "text/plain; a=1; b=2; c=3; d=4; e=5; f=6; g=7; h=8",
    "text/plain; empty=\"\"",
    "text/plain; junk",
    "text/plain; =value",
    "x-unknown/x-sub",
]

ENCODINGS = [None, "7bit", "base64", "QUOTED-PRINTABLE", "8bit (comment)",
             "x y", "", " binary "]

DISPOSITIONS = [
    None,
    "inline",
    "attachment; filename=\"a.txt\"",
    "ATTACHMENT; filename*=utf-8''%E2%82%AC.txt; size=123",
    "; filename=x",
    "attachment; filename=\"unterminated",
    "form-data; name=\"field\"; filename=\"f.bin\"",
]

LANGUAGES = [None, "en", "en, fr", "en-US,de-CH , x-klingon", ", en",
             "(comment) en"]

BODIES = [
    "Hello world\n",
    "",
    "\n",
    "no final newline",
    "line1\nline2\n\n\nline5\n",
    "bare\rCR\r\rlines\r\n",
    "NUL\x00bytes\x00\n",
    "8-bit \xc3\xa9\xff\n",
    "x" * 10000 + "\n",
    "--not-a-boundary\n-- \n---\n",
    ".\n..\nFrom someone\n",
]


def hdr(lines):
    return "".join(l + "\n" for l in lines)


def content_headers(rng, ct=None, enc=None, disp=None, lang=None,
                    extra=True):
    h = []
    if ct is not None:
        h.append("Content-Type: " + ct)
    if enc is not None:
        h.append("Content-Transfer-Encoding: " + enc)
    if disp is not None:
        h.append("Content-Disposition: " + disp)
    if lang is not None:
        h.append("Content-Language: " + lang)
    if extra and rng.random() < 0.3:
        h.append("Content-ID: <part%d@example.com>" % rng.randrange(1000))
    if extra and rng.random() < 0.2:
        h.append("Content-Description: " +
                 rng.choice(["a part", "desc\n folded", "\xc3\xa9 8-bit",
                             "quote\"d"]))
    if extra and rng.random() < 0.1:
        h.append("Content-MD5: Q2hlY2sgSW50ZWdyaXR5IQ==")
    if extra and rng.random() < 0.1:
        h.append("Content-Location: http://example.com/\n a/b")
    return h


def envelope_headers(rng, i):
    h = []
    if rng.random() < 0.9:
        h.append("Date: " + rng.choice([
            "Mon, 7 Feb 1994 21:52:25 -0800",
            "Tue, 1 Jul 2003 10:52:37\n +0200",
            "garbage date",
            "\"quoted\" date"]))
    if rng.random() < 0.9:
        h.append("Subject: " + rng.choice(SUBJECTS))
    for name, p in (("From", 0.9), ("Sender", 0.2), ("Reply-To", 0.2),
                    ("To", 0.8), ("Cc", 0.3), ("Bcc", 0.1)):
        if rng.random() < p:
            h.append(name + ": " + ", ".join(
                rng.choice(ADDRESSES) for _ in range(rng.randrange(1, 3))))
    if rng.random() < 0.5:
        h.append("In-Reply-To: <%d@example.com>" % i)
    if rng.random() < 0.8:
        h.append("Message-ID: " + rng.choice([
            "<%d@example.com>" % i, "<\"quoted\"@example.com>",
            "", "<8bit\xc3\xa9@example.com>"]))
    return h


def multipart(boundary, parts, preamble="", epilogue="", close=True,
              subtype="mixed", extra_params=""):
    """parts: list of (header_lines, body) or raw strings."""
    out = "Content-Type: multipart/%s; boundary=\"%s\"%s\n\n" % (
        subtype, boundary, extra_params)
    out += preamble
    for p in parts:
        out += "--" + boundary + "\n"
        if isinstance(p, str):
            out += p
        else:
            out += hdr(p[0]) + "\n" + p[1]
        if not out.endswith("\n"):
            out += "\n"
    if close:
        out += "--" + boundary + "--\n"
    out += epilogue
    return out


def structured(rng, i):
    """Hand-shaped structures (a list of (name, message text))."""
    text = ([["Content-Type: text/plain"], "part one\n"])
    html = ([["Content-Type: text/html; charset=utf-8",
              "Content-Transfer-Encoding: quoted-printable"],
             "<p>two</p>\n"])
    att = ([["Content-Type: application/octet-stream; name=a.bin",
             "Content-Disposition: attachment; filename=a.bin",
             "Content-Transfer-Encoding: base64"], "AAECAwQ=\n"])
    inner_msg = (hdr(["From: a@b.c", "To: d@e.f", "Subject: inner",
                      "Message-ID: <inner@x>", "MIME-Version: 1.0",
                      "Content-Type: text/plain"]) + "\ninner body\n")
    env = hdr(envelope_headers(rng, i) + ["MIME-Version: 1.0"])
    m = []
    m.append(("mixed", env + multipart("b1", [text, html, att],
                                       "preamble\n", "epilogue\n")))
    m.append(("nested", env + multipart("outer", [
        text, multipart("inner", [text, html], subtype="alternative"),
        att])))
    m.append(("rfc822-in-mixed", env + multipart("b", [
        text, [["Content-Type: message/rfc822"], inner_msg]])))
    m.append(("rfc822-multipart", env + multipart("o", [
        [["Content-Type: message/rfc822"],
         hdr(["Subject: fwd", "From: x@y.z", "MIME-Version: 1.0"]) +
         multipart("i", [text, att])]])))
    m.append(("rfc822-top", env + "Content-Type: message/rfc822\n\n" +
              inner_msg))
    m.append(("rfc822-empty", env + "Content-Type: message/rfc822\n\n"))
    m.append(("rfc822-noeoh", env + "Content-Type: message/rfc822\n"))
    m.append(("rfc822-no-mime", hdr(envelope_headers(rng, i)) +
              "Content-Type: message/rfc822\n\n" +
              hdr(["Subject: x", "Content-Transfer-Encoding: base64"]) +
              "\nbody\n"))
    m.append(("digest", env + multipart("d", [
        inner_msg, inner_msg, [["Content-Type: text/plain"], "not msg\n"]],
        subtype="digest")))
    m.append(("no-boundary-param", env +
              "Content-Type: multipart/mixed\n\n--x\n\nbody\n--x--\n"))
    m.append(("missing-close", env + multipart("b", [text, html],
                                               close=False)))
    m.append(("wrong-boundary", env +
              "Content-Type: multipart/mixed; boundary=never\n\n"
              "--other\nContent-Type: text/plain\n\nx\n--other--\n"))
    m.append(("boundary-trailing", env +
              "Content-Type: multipart/mixed; boundary=\"bb\"\n\n"
              "--bb   \nContent-Type: text/plain\n\none\n--bb trailing junk"
              "\n\ntwo\n--bb--junk\nepilogue\n"))
    m.append(("boundary-prefix", env + multipart("abc", [
        text, multipart("abcdef", [text, html]), att])))
    m.append(("boundary-prefix2", env + multipart("abcdef", [
        text, multipart("abc", [text, html]), att])))
    m.append(("same-boundary-nested", env + multipart("same", [
        text, multipart("same", [text, html])])))
    m.append(("boundary-in-header", env +
              "Content-Type: multipart/mixed; boundary=h\n\n--h\n"
              "Content-Type: text/plain\n--h\nContent-Type: text/html\n\n"
              "x\n--h--\n"))
    m.append(("boundary-in-rfc822-header", env +
              "Content-Type: multipart/mixed; boundary=h\n\n--h\n"
              "Content-Type: message/rfc822\n\nSubject: cut\n--h--\n"))
    m.append(("outer-ends-inner", env +
              "Content-Type: multipart/mixed; boundary=o\n\n--o\n"
              "Content-Type: multipart/alternative; boundary=i\n\n--i\n"
              "Content-Type: text/plain\n\nnever closed\n--o\n"
              "Content-Type: text/html\n\nsecond\n--o--\n"))
    m.append(("empty-parts", env + "Content-Type: multipart/mixed; "
              "boundary=e\n\n--e\n--e\n\n--e\n\n\n--e--\n"))
    m.append(("zero-parts", env + "Content-Type: multipart/mixed; "
              "boundary=z\n\npreamble only\n--z--\n"))
    m.append(("multipart-eof", env + "Content-Type: multipart/mixed; "
              "boundary=z\n\n--z\nContent-Type: text/plain\n\nx"))
    m.append(("multipart-noeoh", env + "Content-Type: multipart/mixed; "
              "boundary=z\n"))
    m.append(("long-boundary", env + multipart("L" * 90, [text, html])))
    m.append(("boundary-2231", env + "Content-Type: multipart/mixed; "
              "boundary*0=\"ab\"; boundary*1=\"cd\"\n\n--abcd\n\nx\n"
              "--abcd--\n"))
    m.append(("boundary-space", env + multipart("with space", [text])))
    m.append(("boundary-at-start", env.replace("MIME-Version: 1.0\n", "") +
              "MIME-Version: 1.0\nContent-Type: multipart/mixed; "
              "boundary=s\n\n--s\n\nx\n--s--"))
    m.append(("multipart-not-mime", hdr(envelope_headers(rng, i)) +
              "Content-Transfer-Encoding: base64\n\nQUJD\n"))
    m.append(("no-header", "\nbody only\n"))
    m.append(("no-header-crlf", "\r\nbody only\r\n"))
    m.append(("empty", ""))
    m.append(("header-only", hdr(envelope_headers(rng, i))))
    m.append(("header-only-nonl", "Subject: cut"))
    m.append(("header-no-colon", "Subject\nThis is not a header\n"
              "From: a@b.c\n\nbody\n"))
    m.append(("header-space-colon", "Subject : spaced\nFrom :a@b.c\n"
              "To:\tx@y.z\nCc:\n\nb\n"))
    m.append(("dup-headers", "Subject: first\nSubject: second\n"
              "From: one@a.b\nFrom: two@a.b\nContent-Type: text/html\n"
              "Content-Type: text/plain\nMIME-Version: 1.0\n"
              "Content-Disposition: inline\n"
              "Content-Disposition: attachment; filename=x\n"
              "Content-ID: <1>\nContent-ID: <2>\n\nbody\n"))
    m.append(("8bit-header-names", "Sub\xc3\xa9ject: x\nX-\xff: y\n"
              "Subject: real\n\nbody\n"))
    m.append(("nul-header", "Subject: a\x00b\nFrom: \"x\x00y\" <a@b.c>\n"
              "To: a\x00b@c.d\n\nbody\n"))
    m.append(("bare-cr", "Subject: bare\rcr\nFrom: a@b.c\n\r\nbody\r"
              "more\r\r\nend\r"))
    m.append(("crlf-mixed", "Subject: mixed\r\nFrom: a@b.c\n\r\nline\n"
              "line\r\n"))
    m.append(("cr-eoh", "Subject: x\n\r\r\nbody\n"))
    m.append(("long-header-line", "Subject: " + "y" * 20000 +
              "\nX-Long: " + "z " * 30000 + "\n\nbody\n"))
    m.append(("long-header-words", "Subject: " + "word " * 4000 +
              "\nTo: " + ", ".join("u%d@example.com" % n
                                   for n in range(900)) + "\n\nbody\n"))
    m.append(("long-body-lines", env + multipart("lb", [
        [["Content-Type: text/plain"], "a" * 70000 + "\n" + "b" * 5 +
         "\n"], [["Content-Type: text/plain"], "-" * 200 + "\n"]])))
    m.append(("dash-lines", env + multipart("d", [
        [["Content-Type: text/plain"], "--\n-\n--d-not\n--dx\n---d\n"]])))
    return m


def deep(levels, rfc822_every=0):
    """multipart nested `levels` deep (message/rfc822 every n levels)."""
    body = "Content-Type: text/plain\n\nleaf\n"
    for n in range(levels, 0, -1):
        if rfc822_every and n % rfc822_every == 0:
            body = ("Content-Type: message/rfc822\n\nSubject: level %d\n"
                    % n) + body
        else:
            body = ("Content-Type: multipart/mixed; boundary=\"lvl%d\"\n\n"
                    "--lvl%d\n%s\n--lvl%d--\n" % (n, n, body, n))
    return "MIME-Version: 1.0\n" + body


def deep_rfc822(levels):
    """message/rfc822 nested `levels` deep."""
    body = "Content-Type: text/plain\n\nleaf\n"
    for n in range(levels, 0, -1):
        body = "Content-Type: message/rfc822\n\nSubject: l%d\n" % n + body
    return "MIME-Version: 1.0\n" + body


def leaf_message(rng, i):
    h = envelope_headers(rng, i)
    if rng.random() < 0.8:
        h.append("MIME-Version: 1.0")
    h += content_headers(rng, rng.choice(CONTENT_TYPES),
                         rng.choice(ENCODINGS), rng.choice(DISPOSITIONS),
                         rng.choice(LANGUAGES))
    rng.shuffle(h)
    return hdr(h) + "\n" + rng.choice(BODIES)


def random_tree(rng, depth=0):
    if depth >= 3 or rng.random() < 0.4:
        h = content_headers(rng, rng.choice(CONTENT_TYPES[:14]),
                            rng.choice(ENCODINGS), rng.choice(DISPOSITIONS),
                            rng.choice(LANGUAGES))
        return hdr(h) + "\n" + rng.choice(BODIES)
    if rng.random() < 0.2:
        return ("Content-Type: message/rfc822\n\n" +
                hdr(envelope_headers(rng, depth)) +
                random_tree(rng, depth + 1))
    b = "=_%d_%x" % (depth, rng.randrange(1 << 30))
    parts = [random_tree(rng, depth + 1) for _ in range(rng.randrange(0, 4))]
    return multipart(b, parts, rng.choice(["", "preamble\n"]),
                     rng.choice(["", "epilogue\n", "trailing"]),
                     close=rng.random() < 0.9,
                     subtype=rng.choice(["mixed", "alternative", "related",
                                         "digest"]))


def variants(name, text):
    """LF as written, CRLF, and without the final line end."""
    raw = text.encode("latin-1")
    yield name, raw
    if b"\n" in raw:
        yield name + "+crlf", raw.replace(b"\r\n", b"\n").replace(
            b"\n", b"\r\n")
    if raw.endswith(b"\n"):
        yield name + "+nonl", raw.rstrip(b"\n")


def corpus(seed=20261201):
    rng = random.Random(seed)
    out = []
    for i in range(2):
        for name, text in structured(rng, i):
            out += variants("%s-%d" % (name, i), text)
    for n in (10, 30, 98, 99, 100, 101, 120):
        out += variants("deep%d" % n, deep(n))
    for n in (20, 99, 100, 101, 110):
        out += variants("deep%d-rfc822" % n, deep(n, rfc822_every=3))
    for n in (98, 99, 100, 105):
        out += variants("deep%d-rfc822-only" % n, deep_rfc822(n))
    for i in range(120):
        out.append(("leaf%d" % i, leaf_message(rng, i).encode("latin-1")))
    for i in range(80):
        msg = hdr(envelope_headers(rng, i) + ["MIME-Version: 1.0"])
        out.append(("tree%d" % i, (msg + random_tree(rng)).encode(
            "latin-1")))
    for i, a in enumerate(ADDRESSES):
        out.append(("addr%d" % i, ("From: %s\nTo: %s\nCc: %s\n\nx\n" % (
            a, a, ADDRESSES[(i + 1) % len(ADDRESSES)])).encode("latin-1")))
    for i, s in enumerate(SUBJECTS):
        out.append(("subject%d" % i, ("Subject: %s\n\nx\n" % s).encode(
            "latin-1")))
    for i, ct in enumerate(CONTENT_TYPES):
        if ct is None:
            continue
        out.append(("ctype%d" % i, ("MIME-Version: 1.0\nContent-Type: %s\n"
                                    "\nx\n" % ct).encode("latin-1")))
    return out


if __name__ == "__main__":
    d = sys.argv[1]
    os.makedirs(d, exist_ok=True)
    for name, data in corpus():
        with open(os.path.join(d, name), "wb") as f:
            f.write(data)
    print(len(corpus()), "messages")
