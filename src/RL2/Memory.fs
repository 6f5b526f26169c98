/// glibc's allocator settings for libtorch's CPU tensors. By default a freed block of more than
/// 128 KB (a [60; 768] float tensor is 184 KB) goes back to the OS, and the next tensor of that size
/// page-faults on every 4 KB page as it is first written: the update's large per-sequence tensors paid
/// for this at every operation. Keeping freed memory in the heap makes them reuse warm pages; resident
/// memory then stays at its peak instead of breathing, and is flat across iterations.
module RL2.Allocator

open System.Runtime.InteropServices

[<DllImport("libc", EntryPoint = "mallopt")>]
extern int private mallopt(int param, int value)

let private trimThreshold, topPad, mmapThreshold = -1, -2, -3

let private configured =
    lazy
        (System.OperatingSystem.IsLinux()
         // glibc caps the mmap threshold at 32 MB on 64-bit systems.
         && mallopt (mmapThreshold, 32 <<< 20) = 1
         && mallopt (trimThreshold, 1 <<< 30) = 1
         && mallopt (topPad, 64 <<< 20) = 1)

/// Applies the settings once per process; false where they do not apply (not glibc).
let keepFreedMemory () =
    try configured.Force() with :? System.EntryPointNotFoundException | :? System.DllNotFoundException -> false
