// RiftWireGuard: placeholder until its issue lands.
