// RiftHub: placeholder until its issue lands.
