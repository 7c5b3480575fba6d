// RiftCrypto placeholder
