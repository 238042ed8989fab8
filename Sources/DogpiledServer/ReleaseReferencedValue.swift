import CacheStore
import EventLoop

/// libevent's cleanup for a value queued by reference (``Connection/appendByReference(_:)``):
/// the bytes are written or dropped, so the item's segment reference goes back.
func releaseReferencedValue(_ data: UnsafeRawPointer?, _ length: Int, _ context: UnsafeMutableRawPointer?) {
    OutputBuffer.referenceReleased(length)
    if let context { Item.releaseSegment(context) }
}
