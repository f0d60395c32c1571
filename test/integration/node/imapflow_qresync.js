// SPDX-License-Identifier: GPL-2.0-or-later
// Driven by test_imap_qresync.py: argv = port, CA file. imapflow with
// qresync: first session remembers UIDVALIDITY and HIGHESTMODSEQ; after
// "go" on stdin a second session reopens INBOX with QRESYNC and fetches
// CHANGEDSINCE. One JSON object per step on stdout.
'use strict';
const fs = require('fs');
const readline = require('readline');
const { ImapFlow } = require('imapflow');

const [port, ca] = process.argv.slice(2);
const out = (o) => process.stdout.write(JSON.stringify(o, (k, v) => (typeof v === 'bigint' ? v.toString() : v)) + '\n');

function client() {
    return new ImapFlow({
        host: '127.0.0.1', port: Number(port), secure: true, qresync: true,
        tls: { ca: [fs.readFileSync(ca)], servername: 'localhost' },
        auth: { user: 'alice', pass: 'secret' }, logger: process.env.IMAPFLOW_DEBUG ? undefined : false,
    });
}

async function main() {
    const rl = readline.createInterface({ input: process.stdin });
    const lines = rl[Symbol.asyncIterator]();
    let c = client();
    await c.connect();
    const enabled = [...c.enabled].filter((x) => x === 'CONDSTORE' || x === 'QRESYNC').sort();
    const box = await c.mailboxOpen('INBOX');
    const uids = [];
    for await (const m of c.fetch('1:*', { uid: true, flags: true })) {
        uids.push([m.uid, [...m.flags].sort()]);
    }
    await c.logout();
    out({ step: 'first', enabled, uids, uidValidity: box.uidValidity, highestModseq: box.highestModseq });
    await lines.next(); // "go": the test changed the mailbox
    rl.close();
    c = client();
    const expunged = [];
    const flags = [];
    c.on('expunge', (e) => expunged.push([Number(e.uid), !!e.vanished, !!e.earlier]));
    c.on('flags', (f) => flags.push([Number(f.uid), [...f.flags].sort()]));
    await c.connect();
    const box2 = await c.mailboxOpen('INBOX', { uidValidity: box.uidValidity, changedSince: box.highestModseq });
    const changed = [];
    const modseqs = [];
    for await (const m of c.fetch('1:*', { uid: true, flags: true }, { uid: true, changedSince: box.highestModseq })) {
        changed.push([m.uid, [...m.flags].sort()]);
        modseqs.push(m.modseq);
    }
    await c.logout();
    out({ step: 'second', uidValidity: box2.uidValidity, highestModseq: box2.highestModseq,
          expunged, flags, changed, modseqs });
}
main().then(() => process.exit(0)).catch((e) => { out({ step: 'error', error: String(e), response: e.response || null }); process.exit(1); });
