"""The API's latency as docs/reading.md gives it: 100 MNIST test images posted one after
another as JSON pixels to the default run, three rounds each, plain and with ?steps=true;
prints ms per request for each round."""
import gzip, json, os, subprocess, sys, time, urllib.request

data = gzip.open(os.path.join(os.environ['MNIST_DIR'], 't10k-images-idx3-ubyte.gz')).read()
images = [[b / 255 for b in data[16 + i * 784:16 + (i + 1) * 784]] for i in range(100)]
proc = subprocess.Popen([sys.argv[1], 'serve', '--addr', '127.0.0.1:0', '--no-browser-model'],
                        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
addr = next(w for w in proc.stdout.readline().split() if w.startswith('http://')).rstrip('/').rstrip('.')
bodies = [json.dumps({'pixels': image}).encode() for image in images]
try:
    for query in ['', '?steps=true'] * 2:
        rounds = []
        for _ in range(3):
            start = time.perf_counter()
            for body in bodies:
                urllib.request.urlopen(urllib.request.Request(f'{addr}/api/predict{query}', data=body, method='POST')).read()
            rounds.append((time.perf_counter() - start) * 1000 / len(bodies))
        print(query or 'plain', ' '.join(f'{r:.2f}' for r in rounds), 'ms a request')
finally:
    proc.kill()
