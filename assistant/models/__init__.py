"""Models: the embedder (MiniLM int8 ONNX) and the sentence ranker's reader, loaded offline once per process.

The model files beside this module (*.onnx, *.json) ship as package data. Imports core and text only."""
