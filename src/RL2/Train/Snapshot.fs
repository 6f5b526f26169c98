/// A run carried from one machine or clone to another in a few files: the newest complete checkpoint,
/// the best checkpoint, the run's configuration, metrics and legs — everything an exact resume reads
/// (TensorBoard events and curves are views, redrawn from the metrics). A snapshot directory holds
/// `iter_NNNNNNNN/`, written under a temporary name and renamed when whole, so the newest one is
/// always complete; older ones are dropped after it.
module RL2.Train.Snapshot

open System
open System.IO

let private name (iteration: int) = $"iter_%08d{iteration}"

let private iterationOf (dir: string) =
    let n = Path.GetFileName dir
    match Int32.TryParse(n.Substring(min n.Length 5)) with
    | true, i when n.StartsWith "iter_" -> Some i
    | _ -> None

/// Iterations of the complete snapshots in `dir`, newest first.
let private all (dir: string) =
    if Directory.Exists dir then Directory.GetDirectories dir |> Array.choose iterationOf |> Array.sortDescending else [||]

/// Iteration of the newest snapshot in `dir`, None if it holds none.
let latest (dir: string) = all dir |> Array.tryHead

/// Copies `files` (paths under `root`) to the same relative paths under `dest`.
let private copyInto (root: string) (files: string seq) (dest: string) =
    for f in files do
        let target = Path.Combine(dest, Path.GetRelativePath(root, f))
        Directory.CreateDirectory(Path.GetDirectoryName target) |> ignore
        File.Copy(f, target, true)

let private filesUnder (dir: string) =
    if Directory.Exists dir then Directory.GetFiles(dir, "*", SearchOption.AllDirectories) else [||]

/// Snapshots the run's newest complete checkpoint into `dir`, dropping older snapshots; returns its
/// iteration, None when the run has no checkpoint yet.
let save (run: string) (dir: string) =
    Checkpoint.latest run
    |> Option.map (fun i ->
        let whole = Path.Combine(dir, name i)
        if not (Directory.Exists whole) then
            let tmp = whole + ".tmp"
            if Directory.Exists tmp then Directory.Delete(tmp, true)
            let records = [ RunConfig.fileName; Metrics.fileName; Legs.fileName ] |> List.map (fun f -> Path.Combine(run, f)) |> List.filter File.Exists
            copyInto run (Checkpoint.files run i @ records @ List.ofArray (filesUnder (Checkpoint.bestDir run))) tmp
            Directory.Move(tmp, whole)
        // Older snapshots go, and so does any half-written one that a crash left behind.
        for other in Directory.GetDirectories dir |> Array.filter ((<>) whole) do
            Directory.Delete(other, true)
        i)

/// The newest snapshot in `dir` when it is ahead of the run's own newest checkpoint (or the run has
/// none): its iteration and its directory, laid out like a run's.
let ahead (dir: string) (run: string) =
    latest dir
    |> Option.filter (fun i -> i > defaultArg (Checkpoint.latest run) 0)
    |> Option.map (fun i -> i, Path.Combine(dir, name i))

/// Restores the newest snapshot in `dir` into the run when it is `ahead`; returns the iteration
/// restored, None when the run is already as far.
let restore (dir: string) (run: string) =
    ahead dir run
    |> Option.map (fun (i, source) ->
        // The snapshot's best replaces the run's: a best kept in both would leave two best iterations.
        if Directory.Exists(Checkpoint.bestDir run) then Directory.Delete(Checkpoint.bestDir run, true)
        copyInto source (filesUnder source) run
        i)

/// Removes every snapshot of `dir` (and `dir`), once the run they carried is finished.
let clear (dir: string) =
    if Directory.Exists dir then Directory.Delete(dir, true)
