// A correct program that ThreadSanitizer reports as racy on Linux (Swift 6.3.1): Synchronization.Mutex waits with futex
// system calls, which TSan does not intercept. Run: swiftc -sanitize=thread -g MutexRepro.swift -o /tmp/m && /tmp/m
// (Not part of any target; see README.md.)
import Foundation
import Synchronization
final class Box: Sendable { let state = Mutex<[Int]>([]) }
let box = Box()
let threads = (0..<2).map { n in Thread { for i in 0..<2000 { box.state.withLock { $0.append(i + n) } } } }
threads.forEach { $0.start() }
while box.state.withLock({ $0.count }) < 4000 { usleep(1000) }
print("count", box.state.withLock { $0.count })
