/// A run's configuration, saved beside its checkpoints as `config.json`, so a resume can tell
/// whether the checkpoints fit the flags it was given.
module RL2.Train.RunConfig

open System.IO
open System.Text.Json

/// Flag name → value, as the user would type them (e.g. "num_features" → "128").
type Config = Map<string, string>

let fileName = "config.json"

let save (run: string) (c: Config) =
    Directory.CreateDirectory run |> ignore
    let tmp = Path.Combine(run, fileName + ".tmp")
    File.WriteAllText(tmp, JsonSerializer.Serialize(c, JsonSerializerOptions(WriteIndented = true)))
    File.Move(tmp, Path.Combine(run, fileName), true)

/// A configuration from the text of a `config.json`.
let ofJson (json: string) : Config = JsonSerializer.Deserialize<Map<string, string>> json

/// The saved configuration, None if the run has none; Error if the file cannot be read.
let load (run: string) : Result<Config option, string> =
    let path = Path.Combine(run, fileName)
    if not (File.Exists path) then
        Ok None
    else
        try
            Ok(Some(ofJson (File.ReadAllText path)))
        with e ->
            Error $"{path} is not a valid run configuration ({e.Message.Split('\n')[0]})"

type Comparison =
    { /// Flags whose change would not fit the checkpoints: (flag, saved, now).
      Incompatible: (string * string * string) list
      /// Flags that may change between legs of a run: (flag, saved, now).
      Changed: (string * string * string) list }

/// Compares a saved configuration with the current one; `fixedFlags` are those a checkpoint depends on.
let compare (fixedFlags: Set<string>) (saved: Config) (now: Config) =
    let diffs =
        Set.union (set saved.Keys) (set now.Keys)
        |> Seq.choose (fun k ->
            let a, b = Map.tryFind k saved |> Option.defaultValue "(unset)", Map.tryFind k now |> Option.defaultValue "(unset)"
            if a = b then None else Some(k, a, b))
        |> Seq.toList
    let incompatible, changed = diffs |> List.partition (fun (k, _, _) -> fixedFlags.Contains k)
    { Incompatible = incompatible; Changed = changed }
