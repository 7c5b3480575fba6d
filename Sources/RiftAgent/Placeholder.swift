// RiftAgent: placeholder until its issue lands.
