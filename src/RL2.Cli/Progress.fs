/// The live view of a training run: a summary, then one line per iteration.
module RL2.Cli.Progress

open Spectre.Console
open RL2.Train

/// Redirected output (CI, tee, notebooks) would otherwise wrap at 80 columns; so would the
/// pseudo-terminal mpiexec gives each process, whatever the user's terminal is. An iteration's
/// line with advantages and an evaluation runs to about 170 characters: one line each in a log.
let widen () =
    if System.Console.IsOutputRedirected || RL2.Dist.Mpi.worldSize().IsSome then AnsiConsole.Profile.Width <- 200

let summary (title: string) (rows: (string * string) list) =
    let table = Table().HideHeaders().Border(TableBorder.Rounded).Title(title)
    table.AddColumns("", "") |> ignore
    for k, v in rows do
        table.AddRow(Markup.Escape k, Markup.Escape v) |> ignore
    AnsiConsole.Write table

let note (text: string) = AnsiConsole.MarkupLine $"[grey]{Markup.Escape text}[/]"

let warning (text: string) = AnsiConsole.MarkupLine $"[yellow]warning:[/] {Markup.Escape text}"

let iteration (total: int) (m: Metrics.Iteration) =
    AnsiConsole.MarkupLine(
        $"[bold]iter {m.Iteration, 5}/{total}[/] {float m.EnvSteps / 1e6, 7:F3}M steps  "
        + $"return [green]{m.MeanReturn, 8:F3}[/]  loss π {m.PolicyLoss, 7:F4} V {m.ValueLoss, 7:F4}  "
        + $"entropy {m.Entropy, 5:F3}  clipfrac {m.ClipFrac, 5:F3}"
        + (m.AdvantageMean |> Option.map (fun a -> $"  adv {a, 7:F3}") |> Option.defaultValue "")
        + $"  {m.StepsPerSecond, 6:F0} steps/s"
        + (match m.EvalMean, m.EvalHalfWidth with
           | Some mean, Some hw -> $"  eval [aqua]{mean:F2} ± {hw:F2}[/]"
           | _ -> "")
    )

let cacheTable (results: RL2.Bench.CacheBench.Result list) =
    let table = Table().Border(TableBorder.Markdown)
    table.AddColumns("architecture", "T", "batch", "cached steps/s", "recomputed steps/s", "speed-up") |> ignore
    for r in results do
        table.AddRow(
            r.Architecture,
            string r.ContextSize,
            string r.Batch,
            $"{r.CachedStepsPerSecond:F0}",
            $"{r.RecomputedStepsPerSecond:F0}",
            $"{r.CachedStepsPerSecond / r.RecomputedStepsPerSecond:F1}x"
        )
        |> ignore
    AnsiConsole.Write table
