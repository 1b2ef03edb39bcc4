"""What every layer leans on: errors a learner reads (``errors``), numbers a learner types
(``numbers``) and a server's memory (``memory``). Nothing here knows about networks or lessons."""
