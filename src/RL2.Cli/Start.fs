/// The start of a recipe that goes on from another's run: that run's snapshot, read out of the
/// repository's history at the commit that carried it, so it is committed once and a clean clone
/// starts the measured experiment where it started.
module RL2.Cli.Start

open System
open System.IO
open RL2.Eval
open RL2.Train
open RL2.Cli.Args

/// Where the start lies in the repository at its commit.
let path (start: Reproduction.Start) = $"docs/results/unfinished/{start.From}/iter_%08d{start.Iteration}"

let describe (start: Reproduction.Start) =
    $"{start.From}'s iteration {start.Iteration} ({start.Commit.Substring(0, 7)}:{path start})"

/// git run on the repository at `repo`: its output bytes, or None when it fails (no git, not a clone,
/// or a shallow one without that commit).
let private git (repo: string) (args: string list) =
    try
        let psi = Diagnostics.ProcessStartInfo("git", RedirectStandardOutput = true, RedirectStandardError = true)
        for a in "-C" :: repo :: args do
            psi.ArgumentList.Add a
        use p = Diagnostics.Process.Start psi
        use bytes = new MemoryStream()
        let err = p.StandardError.ReadToEndAsync()
        p.StandardOutput.BaseStream.CopyTo bytes
        p.WaitForExit()
        err.Wait()
        if p.ExitCode = 0 then Some(bytes.ToArray()) else None
    with :? ComponentModel.Win32Exception ->
        None

/// The start's files (repository paths), empty when the history at `repo` lacks them.
let private files (repo: string) (start: Reproduction.Start) =
    git repo [ "ls-tree"; "-r"; "--name-only"; start.Commit; "--"; path start ]
    |> Option.map (fun listing -> Text.Encoding.UTF8.GetString(listing).Split('\n', StringSplitOptions.RemoveEmptyEntries))
    |> Option.defaultValue [||]

let private blob (repo: string) (start: Reproduction.Start) (file: string) = git repo [ "cat-file"; "blob"; $"{start.Commit}:{file}" ]

/// What keeps the start from being resumed under the configuration `now`, without reading its
/// checkpoints: the history at `repo` lacks the files of its iteration, or its saved flags do not fit.
let problem (repo: string) (start: Reproduction.Start) (now: RunConfig.Config) =
    let present = set (files repo start)
    let config = Path.Combine(path start, RunConfig.fileName)
    match config :: Checkpoint.files (path start) start.Iteration |> List.filter (present.Contains >> not) with
    | [] ->
        let saved = RunConfig.ofJson (Text.Encoding.UTF8.GetString (blob repo start config).Value)
        match (RunConfig.compare fixedFlags (completeConfig saved) now).Incompatible with
        | [] -> None
        | flags -> Some("it was trained with " + (flags |> List.map (fun (k, saved, here) -> $"--{k} {saved}, not {here}") |> String.concat "; "))
    | lacking -> Some("this repository's history lacks its " + String.concat ", " lacking)

/// The start, read out of the history at `repo` into a new directory laid out as a snapshot directory
/// (`iter_NNNNNNNN/…`) for Snapshot.restore; a usage error when the history lacks it.
let read (repo: string) (start: Reproduction.Start) =
    let missing () =
        raise (UsageError $"its start, {describe start}, is not in the history of a git repository at '{Path.GetFullPath repo}'; run from the root of a full (not shallow) clone")
    let files = files repo start
    if files.Length = 0 then missing ()
    let dir = Path.Combine(Path.GetTempPath(), "rl2-start-" + Path.GetRandomFileName())
    for f in files do
        let target = Path.Combine(dir, Path.GetFileName(path start), Path.GetRelativePath(path start, f))
        Directory.CreateDirectory(Path.GetDirectoryName target) |> ignore
        match blob repo start f with
        | Some bytes -> File.WriteAllBytes(target, bytes)
        | None -> missing ()
    dir
