/// The live view of a training run: a summary, then one line per iteration.
module RL2.Cli.Progress

open Spectre.Console
open RL2.Train

let summary (title: string) (rows: (string * string) list) =
    let table = Table().HideHeaders().Border(TableBorder.Rounded).Title(title)
    table.AddColumns("", "") |> ignore
    for k, v in rows do
        table.AddRow(Markup.Escape k, Markup.Escape v) |> ignore
    AnsiConsole.Write table

let note (text: string) = AnsiConsole.MarkupLine $"[grey]{Markup.Escape text}[/]"

let iteration (total: int) (m: Metrics.Iteration) =
    AnsiConsole.MarkupLine(
        $"[bold]iter {m.Iteration, 5}/{total}[/]  steps {float m.EnvSteps / 1000.0, 9:F1}k  "
        + $"return [green]{m.MeanReturn, 8:F3}[/]  policy {m.PolicyLoss, 8:F4}  value {m.ValueLoss, 8:F4}  "
        + $"entropy {m.Entropy, 6:F3}  clipfrac {m.ClipFrac, 5:F3}  {m.StepsPerSecond, 7:F0} steps/s  "
        + $"[grey]({m.RolloutSeconds:F1}s rollout, {m.UpdateSeconds:F1}s update)[/]"
    )
