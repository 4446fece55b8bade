#!/usr/bin/env python3
"""Writes the reference outputs the Rust rebuild of musicnn is checked against
(model-export/tests/fixtures/musicnn/), from musicnn's own TensorFlow code and checkpoint.

Not part of the test command (it needs TensorFlow): run it once in a virtualenv with
`pip install tensorflow-cpu librosa==0.11.0` and the unpacked wheel
(`MUSICNN_WHEEL_DIR`, default ~/.cache/attune/musicnn-0.1.0, plus musicnn's *.py files
from the same wheel on PYTHONPATH).

- network.f32 + network.json: two 3 s patches of a shipped free-shelf excerpt's musicnn input
  (librosa, as musicnn's extractor computes it, without its float16 rounding), and TensorFlow's
  penultimate layer, tags and mean/max pools for them.
- frontend.json: librosa's log-compressed mel (reflect padding) of a synthetic 16 kHz signal
  that the Rust test generates with the same formula.
"""
import json, os, sys
import numpy as np
import librosa
import tensorflow as tf

tf.compat.v1.disable_eager_execution()
from musicnn import models

root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
out = os.path.join(root, "model-export/tests/fixtures/musicnn")
ckpt = os.path.join(os.environ.get("MUSICNN_WHEEL_DIR", os.path.expanduser("~/.cache/attune/musicnn-0.1.0")),
                    "musicnn/MSD_musicnn/")

def compress(y, pad_mode):
    S = librosa.feature.melspectrogram(y=y, sr=16000, hop_length=256, n_fft=512, n_mels=96, pad_mode=pad_mode).T
    return np.log10(10000 * S + 1).astype(np.float32)

audio, _ = librosa.load(os.path.join(root, "public/free/apex-aleph.ogg"), sr=16000)
rep = compress(audio, "constant")
patches = np.stack([rep[0:187], rep[187:374]])

tf.compat.v1.reset_default_graph()
with tf.name_scope("model"):
    x = tf.compat.v1.placeholder(tf.float32, [None, 187, 96])
    is_training = tf.compat.v1.placeholder(tf.bool)
    y, timbral, temporal, cnn1, cnn2, cnn3, mean_pool, max_pool, penultimate = models.define_model(
        x, is_training, "MSD_musicnn", 50)
    tags = tf.nn.sigmoid(y)
sess = tf.compat.v1.Session()
sess.run(tf.compat.v1.global_variables_initializer())
tf.compat.v1.train.Saver().restore(sess, ckpt)
t, pen, mp, xp = sess.run([tags, penultimate, mean_pool, max_pool], feed_dict={x: patches, is_training: False})
patches.astype("<f4").tofile(os.path.join(out, "network.f32"))
json.dump({"source": "public/free/apex-aleph.ogg, frames 0..374 (librosa 0.11, sr 16000)",
           "tags": t.tolist(), "penultimate": pen.tolist(), "mean_pool": mp.tolist(), "max_pool": xp.tolist()},
          open(os.path.join(out, "network.json"), "w"))

n = np.arange(16000 * 2)
sig = (0.4 * np.sin(2 * np.pi * (200 + 1500 * n / len(n)) * n / 16000)
       + 0.1 * np.sin(2 * np.pi * 3000 * n / 16000)).astype(np.float32)
json.dump({"signal": "0.4 sin(2 pi (200 + 1500 n/N) n/16000) + 0.1 sin(2 pi 3000 n/16000), N = 32000",
           "frames": compress(sig, "reflect").tolist()}, open(os.path.join(out, "frontend.json"), "w"))
print("wrote", out)
