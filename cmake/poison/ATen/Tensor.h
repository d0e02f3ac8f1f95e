// Poison header: placed ahead of the system headers for fhenn's torch-free layers.
#error "LibTorch may only be used in the nn layer (and tools): this layer must build without it. See docs/architecture.md."
