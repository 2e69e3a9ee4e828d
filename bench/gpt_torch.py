"""The GPT ladder's PyTorch row: the same model, data, initial weights and Adam steps as the
benchmark's GPT, written the way a PyTorch user would (a document's positions as one tensor,
a causal mask), on one thread. Reads a JSON job on stdin, prints a JSON result on stdout.

Job: {config, parameters (flat, GPT.parameters() order), documents, steps, batchSize, reps, lr,
betas, eps, dtype ("float64" or "float32")}. Step k reads documents k·batchSize onwards; a batch
of more than one (windows of running text) has one length and runs as one tensor, its loss the
mean over every predicted position. Result: {msPerStep: [per repetition], losses: [last run],
torch: version}. Each repetition starts from the same weights; one warm-up repetition first.
"""

import json
import math
import sys
import time

import torch


def main():
    job = json.load(sys.stdin)
    torch.set_num_threads(1)
    dtype = torch.float64 if job["dtype"] == "float64" else torch.float32
    cfg = job["config"]
    V, L, C, H, T = cfg["vocabSize"], cfg["nLayer"], cfg["nEmbd"], cfg["nHead"], cfg["blockSize"]
    D = C // H
    flat = torch.tensor(job["parameters"], dtype=dtype)
    shapes = [(V, C), (T, C), (V, C)]
    for _ in range(L):
        shapes += [(C, C), (C, C), (C, C), (C, C), (4 * C, C), (C, 4 * C)]
    documents = [torch.tensor(d[: T + 1], dtype=torch.long) for d in job["documents"]]
    steps, reps, batch_size = job["steps"], job["reps"], job.get("batchSize", 1)
    lr0, (beta1, beta2), eps = job["lr"], job["betas"], job["eps"]

    def rmsnorm(x):
        return x * (x.pow(2).mean(-1, keepdim=True) + 1e-5).rsqrt()

    def batch_of(step):
        docs = [documents[(step * batch_size + i) % len(documents)] for i in range(batch_size)]
        if any(len(d) != len(docs[0]) for d in docs):
            raise ValueError(f"step {step}: a batch of more than one must have one length")
        return torch.stack(docs)

    def loss_of(weights, batch):
        wte, wpe, lm_head = weights[0], weights[1], weights[2]
        B, n = batch.shape[0], batch.shape[1] - 1
        tokens, targets = batch[:, :n], batch[:, 1:]
        x = rmsnorm(wte[tokens] + wpe[:n])
        mask = torch.ones(n, n, dtype=torch.bool).tril()
        for layer in range(L):
            wq, wk, wv, wo, fc1, fc2 = weights[3 + 6 * layer : 9 + 6 * layer]
            h = rmsnorm(x)
            q = (h @ wq.T).view(B, n, H, D).transpose(1, 2)
            k = (h @ wk.T).view(B, n, H, D).transpose(1, 2)
            v = (h @ wv.T).view(B, n, H, D).transpose(1, 2)
            scores = (q @ k.transpose(-2, -1)) / math.sqrt(D)
            att = scores.masked_fill(~mask, float("-inf")).softmax(-1)
            x = x + (att @ v).transpose(1, 2).reshape(B, n, C) @ wo.T
            x = x + torch.relu(rmsnorm(x) @ fc1.T) @ fc2.T
        logits = x @ lm_head.T
        return torch.nn.functional.cross_entropy(logits.reshape(B * n, V), targets.reshape(B * n))

    def run():
        weights, at = [], 0
        for rows, cols in shapes:
            weights.append(flat[at : at + rows * cols].view(rows, cols).clone().requires_grad_())
            at += rows * cols
        optimizer = torch.optim.Adam(weights, lr=lr0, betas=(beta1, beta2), eps=eps)
        losses = []
        started = time.perf_counter()
        for step in range(steps):
            for group in optimizer.param_groups:
                group["lr"] = lr0 * (1 - step / steps)
            optimizer.zero_grad()
            loss = loss_of(weights, batch_of(step))
            loss.backward()
            optimizer.step()
            losses.append(loss.item())
        return (time.perf_counter() - started) * 1000 / steps, losses

    ms, losses = [], []
    for rep in range(reps + 1):
        elapsed, losses = run()
        if rep > 0:
            ms.append(elapsed)
    print(json.dumps({"msPerStep": ms, "losses": losses, "torch": torch.__version__}))


if __name__ == "__main__":
    main()
