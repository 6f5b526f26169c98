/// Checkpoints as the reference lays them out, `<run>/{policy_net,value_net}/`, plus `<run>/trainer/`
/// with what an exact resume needs (iteration, return window, every process's generator state). Each
/// file is written to a temporary name and renamed; the trainer file is written last and marks an
/// iteration complete, so policy and value always belong to the same iteration. The same state also
/// travels as bytes, from process 0 to the others at the start of a data-parallel run.
module RL2.Train.Checkpoint

open System
open System.IO
open TorchSharp
open RL2

/// Everything beyond network and optimiser state that a resumed run needs to continue exactly.
type TrainerState =
    { Iteration: int
      EnvSteps: int64
      Seconds: float
      /// Most recent meta-episode returns, oldest first.
      Returns: float32[]
      /// Experience generator state of each process, in rank order.
      Generators: byte[][] }

let kept = 5

let private fileName (iteration: int) = $"iter_%08d{iteration}.ckpt"

let private iterationOf (path: string) =
    let name = Path.GetFileNameWithoutExtension path
    match Int32.TryParse(name.Replace("iter_", "")) with
    | true, n when name.StartsWith "iter_" -> Some n
    | _ -> None

/// A checkpoint file is `magic ++ payload length ++ SHA-256(payload) ++ payload`, so a file cut
/// short by a crash or damaged on disk is recognised before anything is loaded from it.
let private magic = "RL2CKPT1"B

exception DamagedCheckpoint of path: string * reason: string

let private writeAtomically (path: string) (write: BinaryWriter -> unit) =
    Directory.CreateDirectory(Path.GetDirectoryName path) |> ignore
    let payload =
        use buffer = new MemoryStream()
        do
            use writer = new BinaryWriter(buffer, Text.Encoding.UTF8, true)
            write writer
        buffer.ToArray()
    let tmp = path + ".tmp"
    do
        use stream = new FileStream(tmp, FileMode.Create, FileAccess.Write)
        use w = new BinaryWriter(stream)
        w.Write magic
        w.Write(int64 payload.Length)
        w.Write(Security.Cryptography.SHA256.HashData payload)
        w.Write payload
        w.Flush()
        stream.Flush(true)
    File.Move(tmp, path, true)

/// The verified payload of a checkpoint file.
let private readVerified (path: string) =
    let damaged reason = raise (DamagedCheckpoint(path, reason))
    let bytes = try File.ReadAllBytes path with e -> damaged e.Message
    let header = magic.Length + 8 + 32
    if bytes.Length < header || not (bytes.AsSpan(0, magic.Length).SequenceEqual(ReadOnlySpan magic)) then
        damaged "not an RL2 checkpoint or cut short"
    let length = BitConverter.ToInt64(bytes, magic.Length)
    if length <> int64 (bytes.Length - header) then
        damaged $"cut short ({bytes.Length - header} of {length} payload bytes)"
    let payload = bytes[header..]
    if not (Security.Cryptography.SHA256.HashData(payload).AsSpan().SequenceEqual(ReadOnlySpan(bytes, magic.Length + 8, 32))) then
        damaged "checksum mismatch"
    payload

let private reader (payload: byte[]) = new BinaryReader(new MemoryStream(payload))

let private iterations (dir: string) =
    if Directory.Exists dir then
        Directory.GetFiles(dir, "iter_*.ckpt") |> Array.choose iterationOf |> Array.sort
    else
        [||]

let private writeNet (w: BinaryWriter) (net: torch.nn.Module) (opt: Modules.OptimizerHelper) =
    net.save w |> ignore
    opt.save_state_dict w

let private readNet (r: BinaryReader) (net: torch.nn.Module) (opt: Modules.OptimizerHelper) =
    net.load(r, true) |> ignore
    opt.load_state_dict r

let private writeTrainer (w: BinaryWriter) (s: TrainerState) =
    w.Write s.Iteration
    w.Write s.EnvSteps
    w.Write s.Seconds
    w.Write s.Returns.Length
    for r in s.Returns do w.Write r
    w.Write s.Generators.Length
    for g in s.Generators do
        w.Write g.Length
        w.Write g

let private readTrainer (r: BinaryReader) =
    let iteration = r.ReadInt32()
    let steps = r.ReadInt64()
    let seconds = r.ReadDouble()
    let returns = Array.init (r.ReadInt32()) (fun _ -> r.ReadSingle())
    let generators = Array.init (r.ReadInt32()) (fun _ -> r.ReadBytes(r.ReadInt32()))
    { Iteration = iteration
      EnvSteps = steps
      Seconds = seconds
      Returns = returns
      Generators = generators }

/// The networks and optimisers a checkpoint holds.
type Learner =
    { Policy: torch.nn.Module
      PolicyOptimizer: Modules.OptimizerHelper
      Value: torch.nn.Module
      ValueOptimizer: Modules.OptimizerHelper }

let private netDirs run = [ Path.Combine(run, "policy_net"); Path.Combine(run, "value_net") ]

let private trainerDir run = Path.Combine(run, "trainer")

/// The three files of iteration `i`'s checkpoint: policy, value, trainer.
let files (run: string) (i: int) = [ for dir in netDirs run @ [ trainerDir run ] -> Path.Combine(dir, fileName i) ]

/// Iterations with all three parts on disk, newest first.
let complete (run: string) =
    iterations (trainerDir run)
    |> Array.filter (fun i -> files run i |> List.forall File.Exists)
    |> Array.rev

/// Iteration of the newest complete checkpoint in a run directory.
let latest (run: string) = complete run |> Array.tryHead

/// Saves iteration `state.Iteration` and drops all but the newest `kept` iterations.
let save (run: string) (learner: Learner) (state: TrainerState) =
    let name = fileName state.Iteration
    let policyDir, valueDir = Path.Combine(run, "policy_net"), Path.Combine(run, "value_net")
    writeAtomically (Path.Combine(policyDir, name)) (fun w -> writeNet w learner.Policy learner.PolicyOptimizer)
    writeAtomically (Path.Combine(valueDir, name)) (fun w -> writeNet w learner.Value learner.ValueOptimizer)
    writeAtomically (Path.Combine(trainerDir run, name)) (fun w -> writeTrainer w state)
    for dir in trainerDir run :: netDirs run do
        let all = iterations dir
        for old in all |> Array.take (max 0 (all.Length - kept)) do
            File.Delete(Path.Combine(dir, fileName old))

/// Restores the newest intact checkpoint into `learner` and returns its trainer state. A damaged
/// iteration is reported through `warn` and the next older one is tried; None when the run has no
/// checkpoint at all, an error when it has some but none is intact.
let tryLoadLatest (run: string) (warn: string -> unit) (learner: Learner) =
    let candidates = complete run
    let attempt i =
        let name = fileName i
        try
            // Verify all three parts before loading any, so a damaged one leaves the nets untouched.
            let policy = readVerified (Path.Combine(run, "policy_net", name))
            let value = readVerified (Path.Combine(run, "value_net", name))
            let trainer = readVerified (Path.Combine(trainerDir run, name))
            use p = reader policy
            use v = reader value
            use t = reader trainer
            readNet p learner.Policy learner.PolicyOptimizer
            readNet v learner.Value learner.ValueOptimizer
            Some(readTrainer t)
        with DamagedCheckpoint(path, reason) ->
            warn $"checkpoint {Path.GetRelativePath(run, path)} is damaged ({reason}); trying an older one"
            None
    match candidates |> Seq.tryPick attempt with
    | Some state -> Some state
    | None when candidates.Length = 0 -> None
    | None -> raise (DamagedCheckpoint(run, $"none of the {candidates.Length} checkpoints is intact"))

/// Networks, optimisers and (if any) trainer state as bytes.
let toBytes (learner: Learner) (state: TrainerState option) =
    use stream = new MemoryStream()
    use w = new BinaryWriter(stream)
    writeNet w learner.Policy learner.PolicyOptimizer
    writeNet w learner.Value learner.ValueOptimizer
    w.Write state.IsSome
    state |> Option.iter (writeTrainer w)
    w.Flush()
    stream.ToArray()

/// Restores `toBytes` into `learner`, returning the trainer state it held.
let ofBytes (learner: Learner) (bytes: byte[]) =
    use r = reader bytes
    readNet r learner.Policy learner.PolicyOptimizer
    readNet r learner.Value learner.ValueOptimizer
    if r.ReadBoolean() then Some(readTrainer r) else None

/// Loads only the policy network of the newest complete checkpoint whose policy file is intact
/// (evaluation needs no optimiser); returns the iteration loaded.
let loadPolicy (run: string) (policy: torch.nn.Module) =
    complete run
    |> Seq.tryPick (fun i ->
        try
            use r = reader (readVerified (Path.Combine(run, "policy_net", fileName i)))
            policy.load(r, true) |> ignore
            Some i
        with DamagedCheckpoint _ ->
            None)

/// Which checkpoint of a run to load: the newest, or the one with the best evaluation so far.
type Which =
    | Latest
    | Best

/// The best periodic evaluation so far: its iteration, its score, and the evaluation set it was
/// measured on (a score compares only with scores on the same set).
type Best =
    { Iteration: int
      Mean: float
      HalfWidth: float
      Seed: int64
      MetaEpisodes: int }

/// The best checkpoint lives in `<run>/best/`, laid out like the run's own, beside `best.json`.
let bestDir (run: string) = Path.Combine(run, "best")

let private bestFile run = Path.Combine(bestDir run, "best.json")

let private jsonOptions =
    Text.Json.JsonSerializerOptions(PropertyNamingPolicy = Text.Json.JsonNamingPolicy.SnakeCaseLower, WriteIndented = true)

/// The run's best evaluation so far, None if it has none.
let tryBest (run: string) =
    let path = bestFile run
    if File.Exists path then
        try
            Some(Text.Json.JsonSerializer.Deserialize<Best>(File.ReadAllText path, jsonOptions))
        with e ->
            raise (DamagedCheckpoint(path, e.Message.Split('\n')[0]))
    else
        None

/// Saves the learner as the run's best checkpoint: the checkpoint files first, then `best.json`
/// naming them, then the previous best's files go. A crash at any point leaves `best.json` naming a
/// complete checkpoint.
let saveBest (run: string) (learner: Learner) (state: TrainerState) (best: Best) =
    let dir = bestDir run
    save dir learner state
    let path = bestFile run
    let tmp = path + ".tmp"
    do
        use stream = new FileStream(tmp, FileMode.Create, FileAccess.Write)
        let bytes = Text.Json.JsonSerializer.SerializeToUtf8Bytes(best, jsonOptions)
        stream.Write(bytes, 0, bytes.Length)
        stream.Flush(true)
    File.Move(tmp, path, true)
    for sub in trainerDir dir :: netDirs dir do
        for i in iterations sub do
            if i <> best.Iteration then File.Delete(Path.Combine(sub, fileName i))

/// Loads only the policy network of the run's best checkpoint; returns its record, None when the
/// run has no best checkpoint.
let loadBestPolicy (run: string) (policy: torch.nn.Module) =
    tryBest run
    |> Option.map (fun b ->
        use r = reader (readVerified (Path.Combine(bestDir run, "policy_net", fileName b.Iteration)))
        policy.load(r, true) |> ignore
        b)

/// Generator state as bytes, and back.
let generatorState (gen: Generator) =
    use s = gen.get_state ()
    s.data<byte>().ToArray()

let restoreGenerator (gen: Generator) (bytes: byte[]) =
    use s = torch.tensor(bytes, dtype = ScalarType.Byte)
    gen.set_state s
