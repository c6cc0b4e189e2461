"""Files in and out: decoding audio and pictures, encoding, atomic writes and the disk and memory budget."""
