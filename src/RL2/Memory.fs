/// Process-wide memory settings for work with libtorch tensors; every entry point applies them first.
module RL2.Memory

open System.Runtime
open System.Runtime.InteropServices

[<DllImport("libc", EntryPoint = "mallopt")>]
extern int private mallopt(int param, int value)

[<DllImport("libc", EntryPoint = "malloc_trim")>]
extern int private malloc_trim(unativeint pad)

let private trimThreshold, topPad, mmapMax = -1, -2, -4

/// glibc's allocator settings for libtorch's CPU tensors. By default a freed block of more than
/// 128 KB (a [60; 768] float tensor is 184 KB) goes back to the OS, and the next tensor of that size
/// page-faults on every 4 KB page as it is first written: the update's large per-sequence tensors paid
/// for this at every operation. Keeping freed memory in the heap makes them reuse warm pages; resident
/// memory then stays at its peak instead of breathing, and is flat across iterations.
///
/// glibc caps the mmap threshold at 32 MB, and blocks above it were still mapped afresh each time
/// (the threshold, once raised to that cap here, is moot with mmap off and is no longer set):
/// SNAIL's step-mode caches of 2000 meta-episodes (a 220 MB buffer rewritten every step) took 201 s
/// to play 100 steps, 12 times 500 meta-episodes' 17 s. With no mmap at all for the process's first
/// thread (where rollouts and evaluation run) they took 25 s. Other threads' arenas are 64 MB heaps,
/// so glibc still maps their larger blocks. Trimming is off (-1), not at a threshold: 10 000
/// meta-episodes free 1.1 GB buffers, and with a 1 GB threshold they took 466 s, with none 132 s
/// (852 s before either, the same returns to the last digit); `release` still trims on demand.
/// Resident memory is then the peak's: 9.8 GB for those 10 000, against 4.8 GB.
let private keepFreedMemory =
    lazy
        (try
            System.OperatingSystem.IsLinux()
            && mallopt (mmapMax, 0) = 1
            && mallopt (trimThreshold, -1) = 1
            && mallopt (topPad, 64 <<< 20) = 1
         with :? System.EntryPointNotFoundException | :? System.DllNotFoundException ->
             false)

/// Applies the settings; returns whether glibc took its part (false where it does not apply).
///
/// It also makes garbage collections blocking. TorchSharp hands libtorch the raw handle of a
/// temporary Scalar (the alpha 1 of `add`, a `ToScalar()` argument) without keeping the Scalar alive
/// through the call. A background collection that scans the stack during that call finalises it,
/// and libtorch reads freed memory: "Expected false to be true" from Scalar::toFloat, or worse. A
/// blocking collection runs only at an allocation of this thread, never inside a native call. Measured
/// with 2M-element adds under frequent gen-2 collections: 3 of 5 40-second runs failed with
/// background collections, none of 7 with blocking ones.
let configure () =
    GCSettings.LatencyMode <- GCLatencyMode.Batch
    keepFreedMemory.Force()

/// Hands the heap's free memory back to the OS (the settings above keep it), after collecting the
/// tensors no longer referenced, for a measurement of one piece of work's memory after another's.
/// malloc_trim leaves the top chunk of a thread's own arena (up to one 64 MB arena heap): what the
/// process's first thread freed it returns whole.
let release () =
    System.GC.Collect()
    System.GC.WaitForPendingFinalizers()
    try
        if System.OperatingSystem.IsLinux() then malloc_trim 0un |> ignore
    with :? System.EntryPointNotFoundException | :? System.DllNotFoundException ->
        ()

/// Garbage collections held off while it is alive and `active`, for code that runs libtorch calls on
/// two threads at once. Blocking collections (above) are not enough there: a collection triggered by
/// one thread's allocation runs while the other thread is inside a native call, whose temporary Scalar
/// the finalizer may then free. The holder calls `Renew` between its concurrent sections (no other
/// thread in libtorch): once half the allocation budget is used, the hold restarts there, with the one
/// collection that takes. A hold inside another runs as the outer one.
type CollectionHold(active: bool) =
    static let budget = 64L <<< 20
    let held () = GCSettings.LatencyMode = GCLatencyMode.NoGCRegion
    let active = active && not (held ())
    let mutable start = 0L
    let release () =
        // The region ends by itself once its budget is allocated, possibly since `held` looked.
        try
            if held () then System.GC.EndNoGCRegion()
        with :? System.InvalidOperationException ->
            ()
    let hold () =
        release ()
        start <- System.GC.GetTotalAllocatedBytes false
        // Another hold may have started one since (tests run holds on parallel threads): it holds for both.
        try
            System.GC.TryStartNoGCRegion budget |> ignore
        with :? System.InvalidOperationException ->
            ()
    do if active then hold ()

    member _.Renew() =
        if active && (not (held ()) || System.GC.GetTotalAllocatedBytes false - start > budget / 2L) then
            hold ()

    interface System.IDisposable with
        member _.Dispose() =
            if active then release ()
