// RiftSupport: placeholder until its issue lands.
