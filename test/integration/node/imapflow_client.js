// SPDX-License-Identifier: GPL-2.0-or-later
// Driven by test_imap_clients.py: argv = port, CA file. Prints one JSON
// object per step on stdout; exits non-zero on the first failure.
'use strict';
const fs = require('fs');
const { ImapFlow } = require('imapflow');

const [port, ca] = process.argv.slice(2);
const out = (o) => process.stdout.write(JSON.stringify(o) + '\n');

async function main() {
    const client = new ImapFlow({
        host: '127.0.0.1', port: Number(port), secure: true,
        tls: { ca: [fs.readFileSync(ca)], servername: 'localhost' },
        auth: { user: 'alice', pass: 'secret' }, logger: process.env.IMAPFLOW_DEBUG ? undefined : false,
    });
    await client.connect();
    out({ step: 'capabilities', caps: [...client.capabilities.keys()].sort() });
    const list = await client.list();
    out({ step: 'list', names: list.map((m) => m.path).sort() });
    const box = await client.mailboxOpen('INBOX');
    out({ step: 'open', exists: box.exists, uidNext: box.uidNext, readOnly: box.readOnly });
    const msgs = [];
    for await (const m of client.fetch('1:*', { uid: true, flags: true, envelope: true, source: true, size: true })) {
        msgs.push({ uid: m.uid, flags: [...m.flags].sort(), subject: m.envelope.subject,
                    from: m.envelope.from[0].address, size: m.size,
                    source: m.source.toString('base64') });
    }
    out({ step: 'fetch', msgs });
    await client.messageFlagsAdd({ uid: '1' }, ['\\Flagged'], { uid: true });
    const f = await client.fetchOne('1', { flags: true });
    out({ step: 'flag', flags: [...f.flags].sort() });
    const copied = await client.messageCopy('1:2', 'Work');
    out({ step: 'copy', destination: copied.destination, uidMap: [...(copied.uidMap || new Map())] });
    // IDLE: the test delivers a message when it reads "idle"
    const seen = new Promise((resolve) => client.on('exists', (d) => resolve(d)));
    client.idle(); // resolves when the next command breaks it
    out({ step: 'idle' });
    let timer;
    const timeout = new Promise((_, rej) => {
        timer = setTimeout(() => rej(new Error('no EXISTS during IDLE')), 15000);
    });
    const ev = await Promise.race([seen, timeout]);
    clearTimeout(timer);
    out({ step: 'exists', count: ev.count, prevCount: ev.prevCount });
    await client.logout();
    out({ step: 'done' });
}
main().catch((e) => { out({ step: 'error', error: String(e), response: e.response || null }); process.exit(1); });
