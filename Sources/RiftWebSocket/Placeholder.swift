// RiftWebSocket: placeholder until its issue lands.
