// The bare node:http baseline for bench/cpu-per-request.sh: a fixed 100-byte body on PORT (default 18200).
import http from 'node:http';

const body = 'x'.repeat(100);
http
  .createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'text/plain' });
    res.end(body);
  })
  .listen(Number(process.env['PORT'] ?? 18200), '127.0.0.1');
