/* Sort a table on a header click (numbers by their data-v, text otherwise; empty cells
   last), and put a Copy button after every <pre class="copyable">. */
(function(){
function key(td){return td.getAttribute("data-v");}
document.querySelectorAll("table.sortable").forEach(function(t){
 t.querySelectorAll("th").forEach(function(th,i){
  th.title="Click to sort";
  th.addEventListener("click",function(){
   var asc=!th.classList.contains("asc");
   t.querySelectorAll("th").forEach(function(h){h.classList.remove("asc","desc");});
   th.classList.add(asc?"asc":"desc");
   var body=t.tBodies[0],rows=Array.prototype.slice.call(body.rows);
   rows.sort(function(a,b){
    var x=key(a.cells[i]),y=key(b.cells[i]);
    if(x&&y){return asc?x-y:y-x;}
    if(x!==null&&y!==null&&(x||y)){return x?-1:1;}
    var s=a.cells[i].textContent.localeCompare(b.cells[i].textContent);
    return asc?s:-s;});
   rows.forEach(function(r){body.appendChild(r);});
  });
 });
});
document.querySelectorAll("pre.copyable").forEach(function(pre){
 if(!navigator.clipboard){return;}
 var b=document.createElement("button");b.type="button";b.className="copy";
 b.textContent="Copy";
 b.addEventListener("click",function(){navigator.clipboard.writeText(pre.textContent).then(
  function(){b.textContent="Copied";});});
 pre.parentNode.insertBefore(b,pre.nextSibling);
});
})();
