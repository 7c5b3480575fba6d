// RiftStore: placeholder until its issue lands.
