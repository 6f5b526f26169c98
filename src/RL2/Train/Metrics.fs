/// What one policy iteration measured, and the run's `metrics.jsonl` (one JSON object per line).
module RL2.Train.Metrics

open System.IO
open System.Text.Json

type Iteration =
    { Iteration: int
      EnvSteps: int64
      Seconds: float
      MeanReturn: float
      PolicyLoss: float
      ValueLoss: float
      Entropy: float
      ClipFrac: float
      /// The advantages' mean before any standardisation: positive while the value net underestimates
      /// the returns. None in lines written before it was logged.
      AdvantageMean: float option
      LearningRate: float
      StepsPerSecond: float
      RolloutSeconds: float
      UpdateSeconds: float
      /// Mean return on the held-out evaluation tasks, its 95% CI half-width and the seconds the
      /// evaluation took (not counted in `Seconds`); None on iterations without an evaluation.
      EvalMean: float option
      EvalHalfWidth: float option
      EvalSeconds: float option }

let fileName = "metrics.jsonl"

// None is written as nothing at all: lines of iterations without an evaluation keep their old form.
let private options =
    JsonSerializerOptions(PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower, DefaultIgnoreCondition = Serialization.JsonIgnoreCondition.WhenWritingNull)

let toJson (m: Iteration) = JsonSerializer.Serialize(m, options)

let ofJson (line: string) = JsonSerializer.Deserialize<Iteration>(line, options)

let append (run: string) (m: Iteration) =
    Directory.CreateDirectory run |> ignore
    File.AppendAllText(Path.Combine(run, fileName), toJson m + "\n")

let read (run: string) =
    let path = Path.Combine(run, fileName)
    if File.Exists path then
        File.ReadAllLines path |> Array.filter (fun l -> l.Trim() <> "") |> Array.map ofJson
    else
        [||]

/// Drops lines past `iteration`: iterations logged after the checkpoint a resumed run starts from.
let truncateAfter (run: string) (iteration: int) =
    let path = Path.Combine(run, fileName)
    if File.Exists path then
        let keep = read run |> Array.filter (fun m -> m.Iteration <= iteration)
        File.WriteAllLines(path, keep |> Array.map toJson)
