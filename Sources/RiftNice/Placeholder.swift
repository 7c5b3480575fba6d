// RiftNice: placeholder until its issue lands.
