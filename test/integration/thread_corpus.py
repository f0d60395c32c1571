# SPDX-License-Identifier: GPL-2.0-or-later
"""Messages for SORT and THREAD tests: conversations linked by
Message-ID, References and In-Reply-To (with gaps, duplicates, loops and
broken IDs), subjects with every RFC 5256 base-subject form (Re:, Fwd:,
[blobs], (fwd), [Fwd: ...], encoded words, case), dates in several zones
with ties, missing and unreadable dates, and From/To/Cc with display
names, groups and empty fields."""

import random

BASES = ["lunch", "Lunch plans", "budget 2024", "=?UTF-8?Q?caf=C3=A9?= talk",
         "x", "", "release notes", "[PATCH] fix the build", "Meeting"]
PREFIXES = ["", "", "Re: ", "RE: ", "re:", "Fwd: ", "Fw: ", "Re[2]: ",
            "[list] Re: ", "[list] ", "Re: Re: ", "Re: [list] ",
            "=?UTF-8?Q?Re=3A?= "]
SUFFIXES = ["", "", "", " (fwd)", "  "]
ZONES = ["+0000", "-0800", "+0200", "+0530", "GMT", "EST", "-0000", ""]
PEOPLE = ["alice@example.org", "Bob <bob@example.net>",
          "\"Carol Q\" <carol@example.com>",
          "=?UTF-8?B?SsO8cmdlbg==?= <juergen@example.de>",
          "dave@EXAMPLE.org", "Erin <ERIN@example.org>", "undisclosed:;",
          "<>", "zed@example.org", "Al <al@example.org>"]
DAYS = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]
MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep",
          "Oct", "Nov", "Dec"]


def date(rng, t):
    """An RFC 5322 date for a time near t, in some zone."""
    import time as _time
    z = rng.choice(ZONES)
    off = 0
    if z and z[0] in "+-":
        off = (1 if z[0] == "+" else -1) * (int(z[1:3]) * 3600 +
                                            int(z[3:5]) * 60)
    elif z == "EST":
        off = -5 * 3600
    tm = _time.gmtime(t + off)
    return "%s, %d %s %d %02d:%02d:%02d %s" % (
        DAYS[tm.tm_wday], tm.tm_mday, MONTHS[tm.tm_mon - 1], tm.tm_year,
        tm.tm_hour, tm.tm_min, tm.tm_sec, z)


def thread_corpus(seed=5256, count=160):
    """[(name, bytes)] in delivery order."""
    rng = random.Random(seed)
    out = []
    ids = []  # message IDs given out so far
    base_t = 1700000000
    for i in range(count):
        h = []
        t = base_t + rng.choice([0, 60, 3600, 86400]) * rng.randrange(0, 40)
        r = rng.random()
        if r < 0.8:
            h.append("Date: " + date(rng, t))
        elif r < 0.9:
            h.append("Date: not a date")
        subj = rng.choice(PREFIXES) + rng.choice(BASES) + rng.choice(SUFFIXES)
        if rng.random() < 0.05:
            subj = "[Fwd: " + subj + "]"
        if rng.random() < 0.95:
            h.append("Subject: " + subj)
        for name, p in (("From", 0.95), ("To", 0.8), ("Cc", 0.4)):
            if rng.random() < p:
                h.append(name + ": " + ", ".join(
                    rng.choice(PEOPLE) for _ in range(rng.randrange(1, 3))))
        mid = "<t%d@example.com>" % i
        r = rng.random()
        if r < 0.05 and ids:
            mid = rng.choice(ids)  # a duplicate
        elif r < 0.08:
            mid = "<no-at-sign-%d>" % i
        elif r < 0.1:
            mid = None
        elif r < 0.12:
            mid = "< t%d @ example.com >" % i
        if mid is not None:
            h.append("Message-ID: " + mid)
            ids.append(mid)
        r = rng.random()
        if ids and r < 0.5:
            # a chain: a few earlier IDs (some never delivered), oldest first
            k = rng.randrange(1, 4)
            chain = sorted(rng.sample(range(len(ids)), min(k, len(ids))))
            refs = [ids[j] for j in chain]
            if rng.random() < 0.2:
                refs.insert(0, "<gone%d@example.com>" % rng.randrange(20))
            h.append("References: " + "\n\t".join(refs))
            if rng.random() < 0.5:
                h.append("In-Reply-To: " + refs[-1])
        elif ids and r < 0.7:
            h.append("In-Reply-To: " + rng.choice(ids) +
                     rng.choice(["", " (comment)", " <extra@example.com>"]))
        elif r < 0.75:
            h.append("In-Reply-To: <gone%d@example.com>" % rng.randrange(20))
        elif r < 0.78:
            # a loop with a later message
            h.append("References: <t%d@example.com>" % (i + 1))
        out.append(("thread%d" % i, ("\n".join(h) + "\n\nbody %d\n" % i)
                    .encode("utf-8")))
    return out
