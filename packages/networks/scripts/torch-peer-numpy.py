# Regenerates NUMPY_PEER_OUTPUT in src/unet-torch-peer.test.ts (needs only NumPy):
#   1. in a scratch vitest file, build and randomise the model exactly as that test does and write
#      JSON {"params": {name: {"shape", "data"}}, "x": x.arraySync() (NHWC), "t": [3, 917], "y": [1, 2],
#      "out": prediction.arraySync()} to dump.json;
#   2. python3 scripts/torch-peer-numpy.py dump.json expected.json  (prints the max difference to "out").
# NumPy transcription of shared/peers/torch_unet.py (NCHW, PyTorch weight layouts), fed the
# tfjs model's parameters converted by name: a check of layouts, concat order, padding, attention.
import json, math, sys
import numpy as np
d = json.load(open(sys.argv[1]))
P = {k: np.array(v['data'], dtype=np.float64).reshape(v['shape']) for k, v in d['params'].items()}

def conv_w(name):  # HWIO -> OIHW
    return P[name + '.weight'].transpose(3, 2, 0, 1), P[name + '.bias']
def lin_w(name):   # [in,out] -> [out,in]
    return P[name + '.weight'].T, P[name + '.bias']
def pw_w(name):    # [1,in,out] -> [out,in,1,1]
    w = P[name + '.weight'][0].T
    return w[:, :, None, None], P[name + '.bias']

def conv2d(x, wb, stride=1, padding=None):
    w, b = wb
    o, i, kh, kw = w.shape
    p = kh // 2 if padding is None else padding
    x = np.pad(x, ((0, 0), (0, 0), (p, p), (p, p)))
    B, C, H, W = x.shape
    Ho = (H - kh) // stride + 1; Wo = (W - kw) // stride + 1
    out = np.zeros((B, o, Ho, Wo))
    for a in range(kh):
        for c in range(kw):
            patch = x[:, :, a:a + stride * Ho:stride, c:c + stride * Wo:stride]
            out += np.einsum('bihw,oi->bohw', patch, w[:, :, a, c])
    return out + b[None, :, None, None]
def linear(x, wb): w, b = wb; return x @ w.T + b
def silu(x): return x / (1 + np.exp(-x))
def gn(x, name, groups=8):
    B, C, H, W = x.shape
    g = x.reshape(B, groups, -1)
    m = g.mean(-1, keepdims=True); v = g.var(-1, keepdims=True)
    y = ((g - m) / np.sqrt(v + 1e-5)).reshape(B, C, H, W)
    return y * P[name + '.weight'][None, :, None, None] + P[name + '.bias'][None, :, None, None]
def temb(t, dim):
    half = dim // 2
    freqs = np.exp(-math.log(10000) * np.arange(half) / half)
    a = np.array(t, dtype=np.float64)[:, None] * freqs[None]
    return np.concatenate([np.cos(a), np.sin(a)], 1)

def res(x, e, n):  # class Res
    h = conv2d(silu(gn(x, n + '.in_layers.0')), conv_w(n + '.in_layers.2'))
    se = linear(silu(e), lin_w(n + '.emb_layers.1'))[:, :, None, None]
    sc, sh = np.split(se, 2, 1)
    h = gn(h, n + '.out_layers.0') * (1 + sc) + sh
    h = conv2d(silu(h), conv_w(n + '.out_layers.3'))
    skip = conv2d(x, conv_w(n + '.skip_connection'), padding=0) if (n + '.skip_connection.weight') in P else x
    return skip + h
def attn(x, n):  # class Attn
    b, c, hh, ww = x.shape
    qkv = conv2d(gn(x, n + '.norm'), pw_w(n + '.qkv'), padding=0).reshape(b, 3, c, hh * ww)
    q, k, v = qkv[:, 0], qkv[:, 1], qkv[:, 2]
    a = np.einsum('bci,bcj->bij', q, k) / math.sqrt(c)
    a = np.exp(a - a.max(-1, keepdims=True)); a /= a.sum(-1, keepdims=True)
    return x + conv2d(np.einsum('bij,bcj->bci', a, v).reshape(b, c, hh, ww), pw_w(n + '.proj_out'), padding=0)

ch = 8
x = np.array(d['x']).transpose(0, 3, 1, 2)
e = linear(silu(linear(temb(d['t'], ch), lin_w('time_embed.0'))), lin_w('time_embed.2')) + P['label_emb.weight'][d['y']]
h = conv2d(x, conv_w('input_blocks.0.0')); hs = [h]
# down: Res(8,8), Conv s2, Res(8,16)
h = res(h, e, 'input_blocks.1.0'); hs.append(h)
h = conv2d(h, conv_w('input_blocks.2.0.op'), stride=2, padding=1); hs.append(h)
h = res(h, e, 'input_blocks.3.0'); hs.append(h)
h = res(attn(res(h, e, 'middle_block.0'), 'middle_block.1'), e, 'middle_block.2')
# up: Res, Res, Upsample, Conv, Res, Res
h = res(np.concatenate([h, hs.pop()], 1), e, 'output_blocks.0.0')
h = res(np.concatenate([h, hs.pop()], 1), e, 'output_blocks.1.0')
h = conv2d(h.repeat(2, 2).repeat(2, 3), conv_w('output_blocks.1.1.conv'))
h = res(np.concatenate([h, hs.pop()], 1), e, 'output_blocks.2.0')
h = res(np.concatenate([h, hs.pop()], 1), e, 'output_blocks.3.0')
assert not hs
out = conv2d(silu(gn(h, 'out.0')), conv_w('out.2')).transpose(0, 2, 3, 1)
ours = np.array(d['out'])
print('max abs diff', np.abs(out - ours).max(), 'max abs', np.abs(out).max())
json.dump({'expected': out.round(6).tolist()}, open(sys.argv[2], 'w'))
