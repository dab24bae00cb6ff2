package io.streaminfer.cuda;

import org.bytedeco.javacpp.Pointer;

/** A raw address (device memory, or host memory for kernel argument blocks) as a JavaCPP argument: JavaCPP passes {@code address} through unread. */
final class AddressPointer extends Pointer {
    AddressPointer(long deviceAddress) {
        this.address = deviceAddress;
    }
}
