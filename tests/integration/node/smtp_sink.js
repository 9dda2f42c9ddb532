#!/usr/bin/env node
// smtp_sink.js - the integration tests' Node SMTP server (tests/integration/gateways.py,
// Smtp(impl="node")), built on npm smtp-server (pinned in package.json).
//
// Usage: NODE_PATH=<npm dir>/node_modules node smtp_sink.js PORT MAILDIR ENVDIR CERT KEY
//
// Listens on 127.0.0.1:PORT, offers STARTTLS with CERT/KEY and AUTH PLAIN/LOGIN.
// With SMTP_AUTH_USER and SMTP_AUTH_PASS in the environment, AUTH is mandatory and
// only those credentials pass (535 otherwise, 530 for MAIL FROM without AUTH);
// without them AUTH is optional and any credentials pass.
//
// Each accepted message is stored once per recipient the way an MTA's Maildir
// delivery does: written to MAILDIR/tmp/NAME, renamed to MAILDIR/new/NAME (a file
// in new/ is complete), with LF line ends and "Return-Path:" and "Delivered-To:"
// prepended. The SMTP
// envelope goes to ENVDIR/NAME.json: {mailFrom, rcptTo, deliveredTo, tls, user,
// heloName}. Prints "listening" on stdout when ready; SIGTERM closes it.
'use strict';
const fs = require('fs');
const path = require('path');
const { SMTPServer } = require('smtp-server');

const [port, maildir, envdir, cert, key] = process.argv.slice(2);
if (!port || !maildir || !envdir || !cert || !key) {
  console.error('usage: smtp_sink.js PORT MAILDIR ENVDIR CERT KEY');
  process.exit(2);
}
const authUser = process.env.SMTP_AUTH_USER || '';
const authPass = process.env.SMTP_AUTH_PASS || '';
for (const d of ['tmp', 'new', 'cur']) fs.mkdirSync(path.join(maildir, d), { recursive: true });
fs.mkdirSync(envdir, { recursive: true });
let seq = 0;

// CRLF -> LF, as an MTA's Maildir delivery stores it.
function unixLines(raw) {
  return Buffer.from(raw.toString('latin1').replace(/\r\n/g, '\n'), 'latin1');
}

function store(session, raw) {
  const from = (session.envelope.mailFrom && session.envelope.mailFrom.address) || '';
  const rcpts = session.envelope.rcptTo.map((r) => r.address);
  const base = `${Date.now()}.M${process.hrtime.bigint()}Q${++seq}.${process.pid}`;
  rcpts.forEach((rcpt, i) => {
    const name = `${base}R${i + 1}.sink`;
    const head = Buffer.from(`Return-Path: <${from}>\nDelivered-To: ${rcpt}\n`);
    const envelope = {
      mailFrom: from, rcptTo: rcpts, deliveredTo: rcpt, tls: !!session.secure,
      user: session.user || null, heloName: session.hostNameAppearsAs || null,
    };
    fs.writeFileSync(path.join(envdir, name + '.json'), JSON.stringify(envelope) + '\n');
    fs.writeFileSync(path.join(maildir, 'tmp', name), Buffer.concat([head, unixLines(raw)]));
    fs.renameSync(path.join(maildir, 'tmp', name), path.join(maildir, 'new', name));
  });
  return base;
}

const server = new SMTPServer({
  secure: false,
  key: fs.readFileSync(key),
  cert: fs.readFileSync(cert),
  authMethods: ['PLAIN', 'LOGIN'],
  authOptional: !authUser,
  allowInsecureAuth: true,
  disableReverseLookup: true,
  size: 50 * 1024 * 1024,
  logger: false,
  onAuth(auth, session, cb) {
    if (authUser && (auth.username !== authUser || auth.password !== authPass)) {
      return cb(Object.assign(new Error('Invalid username or password'), { responseCode: 535 }));
    }
    cb(null, { user: auth.username });
  },
  onData(stream, session, cb) {
    const chunks = [];
    stream.on('data', (c) => chunks.push(c));
    stream.on('end', () => {
      if (stream.sizeExceeded) {
        return cb(Object.assign(new Error('Message too big'), { responseCode: 552 }));
      }
      let id;
      try {
        id = store(session, Buffer.concat(chunks));
      } catch (e) {
        console.error('store failed:', e.message);
        return cb(Object.assign(new Error('Cannot store the message'), { responseCode: 451 }));
      }
      console.log(`stored ${id} from=<${session.envelope.mailFrom.address}> ` +
                  `rcpts=${session.envelope.rcptTo.length} tls=${!!session.secure} ` +
                  `user=${session.user || '-'}`);
      cb(null, 'Queued as ' + id);
    });
  },
});
server.on('error', (e) => console.error('smtp error:', e.message));
server.listen(Number(port), '127.0.0.1', () => console.log(`listening on 127.0.0.1:${port}`));
const stop = () => {
  server.close(() => process.exit(0));
  setTimeout(() => process.exit(0), 2000).unref();
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
