//! Renderers: reports, lessons and quiz items as terminal text, JSON, SVG charts and a
//! Markdown or HTML handout; progress records and class rosters. They read the plain data
//! that `report`, `train`, `bank` and `roster` hold and compute nothing of their own.

pub mod handout;
pub mod html;
pub mod item;
pub mod json;
pub mod lesson;
pub mod markdown;
pub mod markup;
pub mod progress;
pub mod roster;
pub mod svg;
pub mod text;
pub mod training;
